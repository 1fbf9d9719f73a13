"""`harness run suites/quickstart.yaml --ray local` end to end: the shipped demo on a Ray instance
this command starts (and stops), with the answers of a single process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.models.ray.conftest import outputs, ray, records, run_dir_of

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "suites" / "quickstart.yaml"


def _harness(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return int(exited.value.code or 0)


@pytest.mark.slow
def test_quickstart_with_ray_local_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert not ray.is_initialized()
    assert _harness("run", str(QUICKSTART), "--ray", "local", "--no-cache", "-o", str(tmp_path / "ray")) == 0
    assert not ray.is_initialized()  # the instance it started is stopped
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines()[-1].startswith("Run directory: ")
    assert "raylet" not in captured.out
    ray_lines = [line for line in captured.err.splitlines() if line.startswith("ray: ")]
    assert ray_lines[:2] == [
        "ray: connected to local: 1 node: 2 CPUs, 0 GPUs",
        "ray: starting 1 actor for base '../datasets/support-lm/base' (2 CPUs and 0 GPUs each)",
    ]
    (summary_line,) = ray_lines[2:]  # one line per base when the actors stop
    assert summary_line.startswith("ray: base '../datasets/support-lm/base': actor 0 on ")
    assert "batches, start-up " in summary_line and ", load " in summary_line

    on_ray = run_dir_of(tmp_path / "ray")
    run = json.loads((on_ray / "run.json").read_text())
    assert run["status"] == "complete" and run["options"]["ray"] == "local"
    assert run["ray"]["cluster"] == "1 node: 2 CPUs, 0 GPUs"
    (entry,) = run["ray"]["pools"]
    assert entry["models"] == ["base", "tuned"] and [a["loads"] for a in entry["actors"]] == [1]

    assert _harness("run", str(QUICKSTART), "--no-cache", "-o", str(tmp_path / "local"), "-q") == 0
    local = records(run_dir_of(tmp_path / "local"))
    assert outputs(records(on_ray)) == outputs(local)
    summary = json.loads((on_ray / "summary.json").read_text())["models"]
    assert (summary["base"]["pass_rate"], summary["tuned"]["pass_rate"]) == (1 / 13, 12 / 13)  # the gates passed
