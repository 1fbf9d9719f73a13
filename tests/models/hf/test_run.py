"""`harness run` with hf: models end to end, and the shipped offline quickstart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.api import RunOptions, RunOutcome, run_suite
from harness.cli import main
from tests.models.hf.conftest import TinyModels

ROOT = Path(__file__).resolve().parents[3]

SUITE = """\
name: tiny
generation: {max_tokens: 6}
cases:
  - {id: one, input: How do I reset my password?}
  - {id: two, input: Where are my invoices?}
  - {id: three, input: hello there}
"""


def _harness(*args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    return int(exited.value.code or 0)


def _records(run_dir: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def _run_dir(output: Path) -> Path:
    (run_dir,) = sorted(path for path in output.iterdir() if path.is_dir())  # beside it: the run history
    return run_dir


def test_harness_run_with_base_and_adapter_specs(tiny: TinyModels, tmp_path: Path, load_counter: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    base, tuned = f"hf:{tiny.base}", f"hf:{tiny.base}+{tiny.lora_a}"
    output = tmp_path / "reports"
    assert _harness("run", str(suite), "-m", base, "-m", tuned, "-o", str(output), "-q") == 0
    run_dir = _run_dir(output)
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(f"Run directory: {run_dir}")
    assert load_counter == [str(tiny.base)]  # one load for both models

    records = _records(run_dir)
    assert sorted((r["model"], r["case_id"]) for r in records) == sorted(
        (m, c) for m in (base, tuned) for c in ("one", "two", "three")
    )
    assert all(r["error"] is None and isinstance(r["output"], str) for r in records)
    assert all(r["usage"]["completion_tokens"] <= 6 for r in records)  # type: ignore[index]
    outputs = {m: [r["output"] for r in records if r["model"] == m] for m in (base, tuned)}
    assert outputs[base] != outputs[tuned]
    run = json.loads((run_dir / "run.json").read_text())
    fingerprints = [m["fingerprint"] for m in run["models"]]
    assert fingerprints[0].startswith(f"hf:{tiny.base}#") and "+lora:" in fingerprints[1]
    assert run["status"] == "complete"

    # A rerun answers from the cache and never loads the model.
    load_counter.clear()
    again = tmp_path / "again"
    assert _harness("run", str(suite), "-m", base, "-m", tuned, "-o", str(again), "-q") == 0
    assert load_counter == []
    rerun = _records(_run_dir(again))
    assert all(r["cached"] for r in rerun)
    assert sorted(str(r["output"]) for r in rerun) == sorted(str(r["output"]) for r in records)


def test_configuration_error_is_one_line_with_exit_2(tiny: TinyModels, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    spec = f"hf:{tiny.base}+{tmp_path / 'missing'}"
    assert _harness("run", str(suite), "-m", spec, "-o", str(tmp_path / "out"), "-q") == 2
    assert capsys.readouterr().err == (
        f"error: model '{spec}': adapter directory '{tmp_path / 'missing'}' not found (looked at {tmp_path / 'missing'})\n"
    )
    assert not (tmp_path / "out").exists()  # nothing started


def test_weights_that_fail_to_load_abort_the_run_with_exit_3(tiny: TinyModels, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    broken = shutil.copytree(tiny.base, tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE)
    assert _harness("run", str(suite), "-m", f"hf:{broken}", "-o", str(tmp_path / "out"), "-q") == 3
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.startswith(f"error: model 'hf:{broken}': could not load base model '{broken}': ")
    assert rest == [f"Partial results: {_run_dir(tmp_path / 'out')}"]
    assert json.loads((_run_dir(tmp_path / "out") / "run.json").read_text())["status"] == "aborted"


def test_suite_models_resolve_paths_against_the_suite_folder(tiny: TinyModels, tmp_path: Path) -> None:
    folder = tmp_path / "suites"
    folder.mkdir()
    shutil.copytree(tiny.base, tmp_path / "models" / "base")
    shutil.copytree(tiny.lora_b, tmp_path / "models" / "lora")
    (folder / "s.yaml").write_text(
        SUITE
        + "models:\n  base: hf:../models/base\n  tuned:\n    spec: hf:../models/base+../models/lora\n"
        + "    options: {batch_size: 2, max_new_tokens: 4}\n"
    )
    outcome = run_suite(folder / "s.yaml", RunOptions(output_dir=tmp_path / "out", progress=False))
    assert outcome.status == "complete"
    assert {r["model"] for r in outcome.records} == {"base", "tuned"}
    assert all(r["error"] is None for r in outcome.records)


def test_quickstart_fine_tune_beats_its_base(quickstart_run: RunOutcome) -> None:
    """The shipped demo: the LoRA adapter learned TechCorp's numbered steps, its base did not."""
    outcome = quickstart_run
    models = outcome.summary["models"]
    assert models["base"]["errors"] == models["tuned"]["errors"] == 0
    assert models["tuned"]["pass_rate"] >= 0.8
    assert models["base"]["pass_rate"] <= 0.2
    steps = [r for r in outcome.records if r["case_id"] != "greeting"]
    tuned = [r["output"] for r in steps if r["model"] == "tuned"]
    base = [r["output"] for r in steps if r["model"] == "base"]
    assert sum(o.startswith("1. ") for o in tuned) >= 10
    assert not any(o.startswith("1. ") for o in base)


def test_quickstart_summary_names_the_regression_first(quickstart_run: RunOutcome) -> None:
    """summary.md, the PR comment, leads with the fine-tune's one regression: the greeting."""
    comparison = quickstart_run.summary["comparison"]["tuned"]
    assert comparison["baseline"] == "base" and comparison["regressions"] == 1
    assert [c["case_id"] for c in comparison["regressed"]] == ["greeting"]
    assert comparison["improvements"] >= 10
    lines = (quickstart_run.run_dir / "summary.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "## harness: quickstart — ✅ Ship `tuned`: all 2 gates passed"
    sections = [line for line in lines if line.startswith("### ")]
    assert sections[0] == "### Regressions"
    first_row = lines[lines.index("### Regressions") + 6]  # after the sentence and the table head
    # each failed check once, named: "name: reason"
    assert first_row == "| greeting | smalltalk | tuned | pass | fail | required: 'hello': missing; forbidden: /^1\\./: found '1.' |"
    assert "no price for" not in (quickstart_run.run_dir / "report.html").read_text(encoding="utf-8")
