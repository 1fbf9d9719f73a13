"""`run_suite` end to end against the local OpenAI-compatible server."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from harness.api import RunOptions, load_results, load_run, run_suite
from harness.errors import RunError, UsageError
from harness.testing import FakeOpenAIServer, Fault


def options(tmp_path: Path, **kw: object) -> RunOptions:
    kw.setdefault("output_dir", tmp_path / "reports")
    kw.setdefault("progress", False)
    kw.setdefault("max_retries", 0)
    return RunOptions(**kw)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def endpoint(fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    return fake_openai


def test_run_directory_contents(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    outcome = run_suite(suite_file, options(tmp_path))
    run_dir = outcome.run_dir
    assert run_dir.parent == tmp_path / "reports" and run_dir.name.startswith("demo-")
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "junit.xml", "report.html", "results.csv", "results.jsonl", "run.json", "summary.json", "summary.md",
    ]

    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete" and run["finished_at"]
    assert run["suite"]["cases"] == 6 and len(run["suite"]["sha256"]) == 64
    assert [m["name"] for m in run["models"]] == ["a", "b"]
    assert run["models"][0]["fingerprint"] == f"openai:model-a@{endpoint.base_url}"
    assert run["models"][1]["generation"] == {"temperature": 0.7}
    assert "openai" in run["environment"]["packages"]

    lines = (run_dir / "results.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["model"], r["case_id"]) for r in records][:2] == [("a", "alpha-0"), ("a", "alpha-1")]
    assert len(records) == 12
    first = records[0]
    assert first["output"] == "echo: alpha 0" and first["passed"] is True
    assert first["checks"] == [{"name": "required: 'alpha'", "passed": True, "reason": "found 'alpha'"}]
    assert first["usage"] == {"prompt_tokens": 2, "completion_tokens": 3}
    echo = next(r for r in records if r["case_id"] == "beta-echo")
    assert echo["passed"] is False and echo["checks"][0]["reason"] == "found 'echo'"

    # the requests carried each model's own parameters
    temps = {(b["model"], b.get("temperature")) for b in endpoint.requests}
    assert temps == {("model-a", None), ("model-b", 0.7)}

    summary = json.loads((run_dir / "summary.json").read_text())["models"]["a"]
    assert (summary["results"], summary["passed"], summary["failed"], summary["errors"]) == (6, 5, 1, 0)
    assert summary["pass_rate"] == pytest.approx(5 / 6)
    assert summary["by_tag"]["alpha"]["pass_rate"] == 1.0
    assert summary["by_tag"]["beta"]["pass_rate"] == pytest.approx(2 / 3)
    assert summary["prompt_tokens"] == 12 and summary["latency_p50_s"] > 0

    with (run_dir / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 and rows[0]["case_id"] == "alpha-0" and rows[0]["tags"] == "alpha"

    frame = load_results(run_dir)
    assert frame.shape[0] == 12
    assert frame.groupby("model")["passed"].mean()["a"] == pytest.approx(5 / 6)
    assert load_run(run_dir).model_names == ["a", "b"]


def test_second_run_is_served_from_the_cache(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    run_suite(suite_file, options(tmp_path))
    assert endpoint.request_count == 12
    outcome = run_suite(suite_file, options(tmp_path))
    assert endpoint.request_count == 12
    assert outcome.summary["models"]["a"]["cached"] == 6
    assert all(r["cached"] for r in outcome.records)
    # --no-cache calls again
    run_suite(suite_file, options(tmp_path, use_cache=False))
    assert endpoint.request_count == 24


def test_models_and_parameters_never_share_cache_entries(tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("models:\n  x: openai:same\n  y: {spec: openai:same, generation: {seed: 1}}\ncases:\n  - {id: q, input: hi}\n")
    run_suite(suite, options(tmp_path, models=["x"]))
    run_suite(suite, options(tmp_path, models=["y"]))  # same model id, different parameters
    run_suite(suite, options(tmp_path, models=["openai:other"]))  # different model
    assert endpoint.request_count == 3
    run_suite(suite, options(tmp_path, models=["x", "y", "openai:other"]))
    assert endpoint.request_count == 3


def test_repeats_are_independent_samples_cached_separately(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    outcome = run_suite(suite_file, options(tmp_path, models=["a"], repeat=3, limit=2))
    assert endpoint.request_count == 6
    assert sorted((r["case_id"], r["repeat"]) for r in outcome.records) == [
        ("alpha-0", 0), ("alpha-0", 1), ("alpha-0", 2), ("alpha-1", 0), ("alpha-1", 1), ("alpha-1", 2)
    ]
    run_suite(suite_file, options(tmp_path, models=["a"], repeat=1, limit=2))
    assert endpoint.request_count == 6  # repeat 0 was cached


def test_filter_limit_and_cli_specs(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    outcome = run_suite(suite_file, options(tmp_path, models=["openai:direct"], filters=["beta"], limit=2))
    assert [r["case_id"] for r in outcome.records] == ["beta-0", "beta-1"]
    assert outcome.records[0]["model"] == "openai:direct"
    outcome = run_suite(suite_file, options(tmp_path, models=["a"], filters=["alpha-1", "*-echo"]))
    assert [r["case_id"] for r in outcome.records] == ["alpha-1", "beta-echo"]
    with pytest.raises(UsageError, match="no case matches --filter nothing"):
        run_suite(suite_file, options(tmp_path, filters=["nothing"]))


def test_errors_are_counted_apart_from_failures(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    endpoint.faults = lambda index, body: Fault(status=500) if "beta" in body["messages"][-1]["content"] else None
    outcome = run_suite(suite_file, options(tmp_path, models=["a"]))
    block = outcome.summary["models"]["a"]
    assert (block["answered"], block["passed"], block["failed"], block["errors"]) == (3, 3, 0, 3)
    assert block["errors_by_kind"] == {"server_error": 3}
    assert block["pass_rate"] == 1.0 and block["error_rate"] == 0.5
    errored = [r for r in outcome.records if r["error"]]
    assert all(r["passed"] is None and r["checks"] == [] and r["output"] is None for r in errored)
    # errors are not cached: a rerun without faults asks again for exactly those
    endpoint.faults = None
    endpoint.reset()
    outcome = run_suite(suite_file, options(tmp_path, models=["a"]))
    assert endpoint.request_count == 3 and outcome.summary["models"]["a"]["errors"] == 0


def test_max_errors_aborts_with_partial_results(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    endpoint.faults = lambda index, body: Fault(status=500)
    with pytest.raises(RunError, match="more than --max-errors allows") as err:
        run_suite(suite_file, options(tmp_path, models=["a"], max_errors="2", concurrency=1))
    run_dir = err.value.run_dir  # type: ignore[attr-defined]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "aborted" and "max-errors" in run["error"]
    assert len((run_dir / "results.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize(("text", "limit"), [("0.5", 6), ("25%", 3), ("4", 4)])
def test_max_errors_accepts_counts_fractions_and_percentages(text: str, limit: int) -> None:
    from harness.run.runner import ErrorBudget

    assert ErrorBudget.parse(text, 12).limit == limit


def test_bad_max_errors_is_a_usage_error(suite_file: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--max-errors takes a count"):
        run_suite(suite_file, options(tmp_path, max_errors="lots"))


def test_unreachable_endpoint_fails_fast(suite_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    started = time.perf_counter()
    with pytest.raises(RunError, match="model 'a': the endpoint is unreachable"):
        run_suite(suite_file, options(tmp_path, models=["a"], max_retries=1))
    assert time.perf_counter() - started < 10


def test_rejected_key_aborts_the_run(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    endpoint.faults = lambda index, body: Fault(status=401, message="Incorrect API key")
    with pytest.raises(RunError, match="rejected the API key"):
        run_suite(suite_file, options(tmp_path, models=["a"]))


def test_secrets_never_reach_the_run_directory(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "-".join(["sk", "test", "SECRET", "0123456789abcdef"])  # a fake key, built so scanners see no key
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    outcome = run_suite(suite_file, options(tmp_path))
    assert outcome.summary["models"]["a"]["answered"] == 6
    for path in outcome.run_dir.iterdir():
        text = path.read_text()
        assert secret not in text, path.name
    monkeypatch.setenv("OPENAI_BASE_URL", endpoint.base_url.replace("http://", "http://user:hunter2@"))
    with pytest.raises(UsageError, match="the base URL embeds credentials"):
        run_suite(suite_file, options(tmp_path))


def test_predictions_models_report_missing_ids(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("models: {p: 'predictions:preds.jsonl'}\ncases:\n  - {id: a, input: x, reference: y}\n  - {id: b, input: x}\n")
    (tmp_path / "preds.jsonl").write_text('{"id": "a", "output": "y"}\n{"id": "zzz", "output": "extra"}\n')
    outcome = run_suite(suite, options(tmp_path))
    assert [r["output"] for r in outcome.records] == ["y", None]
    assert outcome.records[1]["error"]["kind"] == "missing_prediction"
    assert outcome.warnings == ["model 'p': 1 cases have no prediction (b); counted as errors"]


def test_predictions_file_problems(tmp_path: Path) -> None:
    from harness.errors import SuiteError

    suite = tmp_path / "s.yaml"
    suite.write_text("models: {p: 'predictions:preds.jsonl'}\ncases:\n  - {id: a, input: x}\n")
    # found before anything runs, located at the model's spec in the suite (as `harness validate` says)
    with pytest.raises(SuiteError, match=r"s\.yaml:1:13: model 'p': predictions file 'preds\.jsonl' not found"):
        run_suite(suite, options(tmp_path))
    (tmp_path / "preds.jsonl").write_text('{"id": "a", "output": "y"}\n{"id": "a", "output": "z"}\n')
    with pytest.raises(SuiteError, match=r"preds.jsonl:2: duplicate id 'a'"):
        run_suite(suite, options(tmp_path))


def test_no_models_is_a_usage_error(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("cases: [{input: x}]\n")
    with pytest.raises(UsageError, match="no model to run"):
        run_suite(suite, options(tmp_path))


def test_a_spec_that_a_suite_model_has_means_that_model(suite_file: Path, tmp_path: Path, endpoint: FakeOpenAIServer) -> None:
    outcome = run_suite(suite_file, options(tmp_path, models=["openai:model-b"], limit=1))
    assert [r["model"] for r in outcome.records] == ["b"]
    assert endpoint.requests[0]["temperature"] == 0.7  # the suite model's own generation settings
    with pytest.raises(UsageError, match="model given twice: b"):
        run_suite(suite_file, options(tmp_path, models=["b", "openai:model-b"]))
