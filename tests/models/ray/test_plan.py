"""Turning Ray on and its settings (no Ray instance started): precedence, bad input, the missing
extra and an unreachable address, each one line with its exit code."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import UsageError
from harness.models.base import GenerationParams
from harness.models.ray.cluster import ActorShape, Node, default_shape, place
from harness.models.ray.plan import RaySettings, plan_ray
from harness.models.resolve import ResolvedModel
from harness.models.spec import parse_spec
from harness.suite.loader import load_suite
from harness.suite.schema import EngineConfig, ModelConfig, RayConfig
from tests.models.ray.conftest import TinyModels, write_suite


def _model(name: str, spec: str, engine: EngineConfig | None = None) -> ResolvedModel:
    return ResolvedModel(name, parse_spec(spec), ModelConfig(spec=spec, engine=engine), GenerationParams(), Path.cwd())


def _harness(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return int(exited.value.code or 0)


def test_cli_turns_ray_on_for_every_hf_model_except_those_that_opt_out() -> None:
    models = [
        _model("base", "hf:/m/base"),
        _model("local", "hf:/m/base+/m/a", EngineConfig(ray=False)),
        _model("api", "openai:gpt-4o-mini"),
    ]
    plan, warnings = plan_ray(None, models, "auto")
    assert plan is not None and warnings == []
    assert plan.address == "auto" and plan.source == "--ray"
    assert plan.models == {"base": RaySettings()}


def test_model_settings_override_the_suite_field_by_field() -> None:
    suite = EngineConfig(ray=RayConfig(address="ray://head:10001", actors=4, num_gpus=1, max_restarts=5))
    models = [
        _model("base", "hf:/m/base"),
        _model("tuned", "hf:/m/base+/m/a", EngineConfig(ray=RayConfig(actors=2, num_cpus=3))),
    ]
    plan, _ = plan_ray(suite, models, None)
    assert plan is not None and plan.address == "ray://head:10001" and plan.source == "engine.ray"
    assert plan.models["base"] == RaySettings(actors=4, num_gpus=1, max_restarts=5)
    assert plan.models["tuned"] == RaySettings(actors=2, num_cpus=3, num_gpus=1, max_restarts=5)
    # --ray replaces the suite's address
    plan, _ = plan_ray(suite, models, "local")
    assert plan is not None and plan.address == "local"


def test_ray_stays_off_without_flag_or_suite_setting_and_a_model_may_turn_it_on() -> None:
    assert plan_ray(None, [_model("base", "hf:/m/base")], None) == (None, [])
    assert plan_ray(EngineConfig(ray=False), [_model("base", "hf:/m/base")], None) == (None, [])
    plan, _ = plan_ray(None, [_model("base", "hf:/m/base"), _model("t", "hf:/m/b", EngineConfig(ray=True))], None)
    assert plan is not None and list(plan.models) == ["t"]


def test_bad_combinations_are_one_line_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"^model 'api': engine.ray applies to hf: models only$"):
        plan_ray(None, [_model("api", "openai:x", EngineConfig(ray=True))], None)
    models = [_model("a", "hf:/m/a", EngineConfig(ray=RayConfig(address="auto"))), _model("b", "hf:/m/b", EngineConfig(ray=True))]
    with pytest.raises(UsageError, match=r"one Ray cluster per run, but the models ask for 'auto' \(model 'a'\), 'default' \(model 'b'\)"):
        plan_ray(None, models, None)
    with pytest.raises(UsageError, match="--ray needs an address"):
        plan_ray(None, models, " ")


def test_ray_flag_without_hf_models_warns() -> None:
    assert plan_ray(None, [_model("api", "openai:x")], "local") == (
        None, ["--ray: this run has no hf: model; every model is answered from this process"]
    )


def test_suite_engine_keys_are_checked_with_a_suggestion(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("engine:\n  ray: {actor: 2}\nmodels: {m: 'hf:/m/base'}\ncases: [{input: hi}]\n")
    with pytest.raises(Exception) as raised:
        load_suite(suite)
    assert "actor" in str(raised.value) and "actors" in str(raised.value)
    suite.write_text("engine:\n  ray: {actors: 0}\nmodels: {m: 'hf:/m/base'}\ncases: [{input: hi}]\n")
    with pytest.raises(Exception, match="greater than 0"):
        load_suite(suite)


def test_without_the_extra_ray_fails_with_the_pip_command(tiny: TinyModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else find_spec(name, *a))
    suite = write_suite(tmp_path / "s.yaml", tiny, None)
    assert _harness("run", str(suite), "--ray", "local", "-o", str(tmp_path / "out"), "-q") == 2
    assert capsys.readouterr().err == (
        "error: --ray: generating on Ray needs the ray package, which is not installed: pip install 'harness[ray]'\n"
    )
    assert not (tmp_path / "out").exists()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_an_unreachable_address_is_exit_3_naming_it(tiny: TinyModels, tmp_path: Path, scheme: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    address = f"{scheme}127.0.0.1:{_closed_port()}"
    suite = write_suite(tmp_path / "s.yaml", tiny, None)
    assert _harness("run", str(suite), "--ray", address, "-o", str(tmp_path / "out"), "-q") == 3
    assert capsys.readouterr().err == f"error: ray: cannot reach the Ray cluster at {address}: connection refused\n"
    assert not (tmp_path / "out").exists()  # nothing started


def _node(cpus: float, gpus: float = 0, name: str = "n") -> Node:
    return Node(name, "10.0.0.1", name, cpus, gpus)


def test_default_shapes_follow_the_cluster() -> None:
    gpu_cluster = [_node(16, 2), _node(8, 1)]
    assert default_shape(gpu_cluster, None, None, "auto") == ActorShape(1, 1)
    assert default_shape(gpu_cluster, None, None, "cpu") == ActorShape(8, 0)  # the smallest node's CPUs
    assert default_shape([_node(2)], None, None, "auto") == ActorShape(2, 0)
    assert default_shape([_node(2)], None, None, "cuda") == ActorShape(1, 1)  # asked: placement will say it cannot
    assert default_shape([_node(4)], 1, None, "auto") == ActorShape(1, 0)


def test_placement_counts_actors_per_node() -> None:
    cluster = [_node(16, 2), _node(8, 1)]
    assert place([("b", ActorShape(1, 1), None)], cluster) == [3]  # one per GPU
    assert place([("b", ActorShape(1, 0.5), None)], cluster) == [6]  # fractional GPUs
    assert place([("b", ActorShape(6, 0), None)], cluster) == [3]  # 2 on the first node, 1 on the second
    assert place([("a", ActorShape(1, 1), None), ("b", ActorShape(1, 1), 1)], cluster) == [1, 1]  # bases share


def test_placement_says_what_was_asked_and_what_exists() -> None:
    with pytest.raises(Exception) as raised:
        place([("base 'm'", ActorShape(1, 2), None)], [_node(16, 1), _node(8, 1, "m")])
    assert str(raised.value) == (
        "ray: no actor for base 'm' fits on the cluster: each asks 1 CPU and 2 GPUs; the largest node has "
        "16 CPUs and 1 GPU (cluster: 2 nodes: 24 CPUs, 2 GPUs)"
    )
    with pytest.raises(Exception) as raised:
        place([("base 'm'", ActorShape(1, 1), 3)], [_node(16, 2)])
    assert str(raised.value) == (
        "ray: the actors do not fit on the cluster: asked 3 × (1 CPU and 1 GPU) for base 'm' = 3 CPUs and 3 GPUs; "
        "the cluster has 1 node: 16 CPUs, 2 GPUs"
    )


def test_validate_leaves_paths_of_models_on_ray_to_the_nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path missing on the machine that runs harness is an error, unless the model generates on
    Ray: then it is a note, and each actor checks the path on its own node."""
    missing = tmp_path / "shared" / "llama"
    body = f"models:\n  m: 'hf:{missing}'\ncases: [{{input: hi}}]\n"
    local = tmp_path / "local.yaml"
    local.write_text(body)
    on_ray = tmp_path / "ray.yaml"
    on_ray.write_text("engine: {ray: {actors: 2}}\n" + body)
    opted_out = tmp_path / "opted-out.yaml"
    opted_out.write_text(f"engine: {{ray: true}}\nmodels:\n  m: {{spec: 'hf:{missing}', engine: {{ray: false}}}}\ncases: [{{input: hi}}]\n")

    assert _harness("validate", str(local)) == 2
    assert capsys.readouterr().err.strip() == (
        f"{local}:2:6: model 'm': base model directory '{missing}' not found (looked at {missing})"
    )
    assert _harness("validate", str(on_ray)) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{on_ray}:3:6: note: model 'm': base model directory '{missing}' not found (looked at {missing}): "
        "not on this machine; the Ray actors check it on their nodes"
    )
    assert _harness("validate", str(opted_out)) == 2
    capsys.readouterr()
