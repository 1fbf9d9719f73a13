"""A candidate judged against a `run:` baseline (answers recorded in an earlier run), through the CLI."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from harness.cli import cli, invoke
from harness.testing import FakeOpenAIServer
from tests.judging.conftest import SUITE, Scripted, write_suite


def harness(*args: str) -> int:
    return invoke(lambda: cli.main(args=list(args), prog_name="harness", standalone_mode=False))


def only_run(root: Path) -> Path:
    (found,) = [p for p in root.iterdir() if p.is_dir()]
    return found


def models_asked(server: FakeOpenAIServer) -> list[str]:
    return [body["model"] for body in server.requests]


def record_baseline(tmp_path: Path, suite: Path, server: FakeOpenAIServer) -> Path:
    """`harness run SUITE --model openai:base -o baselines`: the recording is that run directory."""
    assert harness("run", str(suite), "--model", "openai:base", "-q", "-o", str(tmp_path / "baselines")) == 0
    assert models_asked(server) == ["base"] * 6
    server.reset()
    return only_run(tmp_path / "baselines")


def judge_against(recording: Path, suite: Path, *extra: str, model: str = "#openai:base") -> int:
    return harness("run", str(suite), "--model", "openai:cand", "--baseline", f"run:{recording}{model}",
                   "--judge", "openai:judge", "-q", "-o", str(suite.parent / "reports"), *extra)


def judgments(run_dir: Path) -> dict[str, dict[str, object]]:
    lines = [orjson.loads(line) for line in (run_dir / "judgments.jsonl").read_text().splitlines()]
    return {str(line["case_id"]): line for line in lines}


def test_candidate_against_a_recorded_baseline_calls_only_the_candidate_and_the_judge(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path)
    recording = record_baseline(tmp_path, suite, fake_openai)

    assert judge_against(recording, suite) == 0
    asked = models_asked(fake_openai)
    assert "base" not in asked
    assert asked.count("cand") == 6
    assert asked.count("judge") == 12  # six items, two orders each, none identical
    out = capsys.readouterr().out
    assert "75.0%" in out and "4/1/1" in out  # the same verdict as generating the baseline live

    run_dir = only_run(tmp_path / "reports")
    run = orjson.loads((run_dir / "run.json").read_bytes())
    baseline = run["models"][1]
    assert baseline["kind"] == "run"
    assert baseline["recorded"]["run_id"] == recording.name and baseline["recorded"]["model"] == "openai:base"
    recorded_fingerprint = orjson.loads((recording / "run.json").read_bytes())["models"][0]["fingerprint"]
    assert baseline["fingerprint"] == f"run:{recording.name}#openai:base|{recorded_fingerprint}"
    records = [orjson.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    recorded = {r["case_id"]: r["output"] for r in records if r["model"] == run["models"][1]["name"]}
    assert recorded == {f"q{n}": text for n, text in enumerate(scripted.baseline.values(), start=1)}

    fake_openai.reset()
    scripted.baseline = {n: "a live baseline would say this" for n in scripted.baseline}  # never asked
    assert judge_against(recording, suite) == 0
    assert fake_openai.request_count == 0  # candidate and judgments from the cache, baseline from the recording
    assert "75.0%" in capsys.readouterr().out


def test_an_edited_case_is_stale_and_not_judged_unless_allowed(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path)
    recording = record_baseline(tmp_path, suite, fake_openai)
    suite.write_text(SUITE.replace('"Question 3"', '"Question 3, asked differently"'), encoding="utf-8")

    assert judge_against(recording, suite) == 0
    captured = capsys.readouterr()
    assert "1 cases changed since the run recorded them" in captured.err and "(q3)" in captured.err
    run_dir = only_run(tmp_path / "reports")
    lines = judgments(run_dir)
    assert lines["q3"]["outcome"] == "skipped" and "stale" in str(lines["q3"]["skipped"])
    assert all(lines[f"q{n}"]["outcome"] != "skipped" for n in (1, 2, 4, 5, 6))
    judged_cases = {body["messages"][-1]["content"] for body in fake_openai.requests if body["model"] == "judge"}
    assert not any("asked differently" in text for text in judged_cases)
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["models"]["run:" + str(recording) + "#openai:base"]["errors_by_kind"] == {"stale": 1}

    fake_openai.reset()
    assert judge_against(recording, suite, "--allow-stale") == 0
    captured = capsys.readouterr()
    assert "answered from the recording anyway (--allow-stale): q3" in captured.err
    rerun = max((tmp_path / "reports").iterdir(), key=lambda p: p.name)
    assert judgments(rerun)["q3"]["outcome"] == "win"  # candidate GOOD three vs recorded "poor three"


def test_cases_missing_from_the_recording_are_errors_named_by_id(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path)
    recording = record_baseline(tmp_path, suite, fake_openai)
    suite.write_text(SUITE + '  - {id: q7, input: "Question 7"}\n', encoding="utf-8")
    scripted.candidate[7] = "GOOD seven"

    assert judge_against(recording, suite) == 0
    err = capsys.readouterr().err
    assert "1 cases are not in the recorded run (q7); counted as errors" in err
    run_dir = only_run(tmp_path / "reports")
    assert judgments(run_dir)["q7"]["outcome"] == "skipped"
    records = [orjson.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    (q7,) = [r for r in records if r["case_id"] == "q7" and r["model"].startswith("run:")]
    assert q7["error"]["kind"] == "missing_prediction" and recording.name in q7["error"]["message"]


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_bad_recordings_are_one_line_exit_2_before_anything_is_sent(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path)
    recording = record_baseline(tmp_path, suite, fake_openai)

    assert judge_against(tmp_path, suite, model="") == 2
    assert f"'{tmp_path}' is not a run directory (no run.json)" in one_error_line(capsys)
    assert judge_against(tmp_path / "nowhere", suite, model="") == 2
    assert "does not exist" in one_error_line(capsys)
    assert judge_against(recording, suite, model="#tuned") == 2
    assert "holds no model 'tuned' (it holds: openai:base)" in one_error_line(capsys)

    other = tmp_path / "other.yaml"
    other.write_text(SUITE.replace("name: judged", "name: another"), encoding="utf-8")
    assert judge_against(recording, other) == 2
    line = one_error_line(capsys)
    assert "was recorded from suite 'judged', not 'another'" in line and "--allow-other-suite" in line
    assert fake_openai.request_count == 0

    assert judge_against(recording, other, "--allow-other-suite") == 0
    assert "base" not in models_asked(fake_openai)


def test_a_recording_of_several_models_needs_the_model_named(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path)
    assert harness("run", str(suite), "--model", "openai:base", "--model", "openai:cand", "-q",
                   "-o", str(tmp_path / "baselines")) == 0
    recording = only_run(tmp_path / "baselines")
    fake_openai.reset()
    code = harness("run", str(suite), "--model", "openai:cand", "--baseline", f"run:{recording}",
                   "--judge", "openai:judge", "-q", "-o", str(tmp_path / "reports"))
    assert code == 2
    line = one_error_line(capsys)
    assert "holds 2 models (openai:base, openai:cand): add #<model>" in line
    assert fake_openai.request_count == 0


def test_a_recorded_run_cannot_judge(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path)
    recording = record_baseline(tmp_path, suite, fake_openai)
    code = harness("run", str(suite), "--model", "openai:cand", "--baseline", "openai:base",
                   "--judge", f"run:{recording}", "-q")
    assert code == 2
    assert "is a recorded run; a judge must be a model that generates" in one_error_line(capsys)


def test_retiring_a_fine_tune_recipe_with_the_recording_named_in_the_suite(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """docs/frozen-baselines.md: record, name the recording in the suite (a path relative to the
    suite file), then gate any replacement on its win rate against it."""
    project = tmp_path / "project"
    project.mkdir()
    suite = write_suite(project)
    assert harness("run", str(suite), "--model", "openai:base", "-q", "-o", str(project / "baselines")) == 0
    only_run(project / "baselines").rename(project / "baselines" / "ft-final")
    suite.write_text(
        SUITE + "models:\n  retired: run:baselines/ft-final\n  replacement: openai:cand\n"
        "baseline: retired\njudge: {model: openai:judge}\ngates:\n  - win_rate.point[replacement] >= 0.7\n",
        encoding="utf-8",
    )
    fake_openai.reset()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the recording is found relative to the suite, not the current folder
    assert harness("run", str(suite), "--model", "replacement", "-q", "-o", str(tmp_path / "reports")) == 0
    assert set(models_asked(fake_openai)) == {"cand", "judge"}
    assert "PASS" in capsys.readouterr().out
    assert harness("run", str(suite), "--model", "replacement", "-q", "-o", str(tmp_path / "reports"),
                   "--gate", "win_rate.point[replacement] >= 0.8") == 1  # 75 %: not yet good enough


def test_monitor_compares_with_a_recorded_run(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/monitoring.md: `harness monitor --baseline run:DIR` pins the win rate's baseline."""
    suite = write_suite(tmp_path)
    recording = record_baseline(tmp_path, suite, fake_openai)
    suite.write_text(SUITE + "monitor:\n  rules: ['win_rate >= 80%']\n", encoding="utf-8")
    code = harness("monitor", str(suite), "--once", "--model", "openai:cand", "--baseline", f"run:{recording}",
                   "--judge", "openai:judge", "-o", str(tmp_path / "reports"))
    assert code == 1  # 75 % < 80 %: the rule breaks
    assert "win_rate >= 80%: win_rate 75.0%, not >= 80.0%" in capsys.readouterr().out
    assert "base" not in models_asked(fake_openai)
