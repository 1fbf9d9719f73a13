"""Judge-only re-runs: `harness judge rerun RUN` (and `harness judge RUN`) judge recorded answers again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from harness.cli import cli, invoke
from harness.testing import FakeOpenAIServer, Reply
from tests.judging.conftest import SUITE, Scripted, prefers_good, slot_answers, write_suite


def harness(*args: str) -> int:
    return invoke(lambda: cli.main(args=list(args), prog_name="harness", standalone_mode=False))


def prefers_poor(body: dict[str, Any]) -> str | Reply:
    """A second judge with the opposite taste: it picks the answer without GOOD in it."""
    a, b = slot_answers(body)
    if ("GOOD" in a) == ("GOOD" in b):
        return "Both alike. [[C]]"
    return "[[B]]" if "GOOD" in a else "[[A]]"


class TwoJudges(Scripted):
    def __call__(self, body: dict[str, Any]) -> str | Reply:
        if body["model"] == "judge2":
            return prefers_poor(body)
        return super().__call__(body)


@pytest.fixture
def judges(fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> TwoJudges:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    script = TwoJudges(prefers_good)
    fake_openai.responder = script
    return script


def original_run(tmp_path: Path, server: FakeOpenAIServer, *extra: str) -> Path:
    suite = write_suite(tmp_path)
    code = harness("run", str(suite), "--model", "openai:cand", "--baseline", "openai:base", "--judge", "openai:judge",
                   "-q", "-o", str(tmp_path / "reports"), *extra)
    assert code == 0
    server.reset()
    (found,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    return found


def newest_other(original: Path) -> Path:
    runs = [p for p in original.parent.iterdir() if p.is_dir() and p != original]
    return max(runs, key=lambda p: p.stat().st_mtime_ns)


def lines(run_dir: Path, name: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (run_dir / name).read_text().splitlines()]


def test_rerun_with_another_judge_writes_new_judgments_and_generates_nothing(
    tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = original_run(tmp_path, fake_openai)
    before = (original / "judgments.jsonl").read_bytes()
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)  # the suite path run.json recorded is found from here

    assert harness("judge", "rerun", str(original), "--judge", "openai:judge2", "-q") == 0
    asked = [body["model"] for body in fake_openai.requests]
    assert asked == ["judge2"] * 12  # no generation request, twelve judgments by the new judge
    out = capsys.readouterr().out
    assert "25.0%" in out and "1/4/1" in out  # W/L/T flipped: the new judge prefers the poor answers

    rerun = newest_other(original)
    assert rerun.parent == original.parent
    assert (original / "judgments.jsonl").read_bytes() == before  # the original run is untouched
    run = orjson.loads((rerun / "run.json").read_bytes())
    assert run["rejudged_from"]["run_id"] == original.name
    assert run["rejudged_from"]["relative_path"] == f"../{original.name}"
    assert run["rejudged_from"]["judge"]["model"] == "openai:judge"
    assert run["judge"]["model"] == "openai:judge2" and run["judge"]["baseline"] == "openai:base"
    assert [(m["name"], m["kind"]) for m in run["models"]] == [("openai:cand", "run"), ("openai:base", "run")]
    judged = lines(rerun, "judgments.jsonl")
    assert {line["judge"] for line in judged} == {"openai:judge2"}
    assert {line["case_id"]: line["outcome"] for line in judged} == {
        "q1": "loss", "q2": "loss", "q3": "loss", "q4": "loss", "q5": "win", "q6": "tie",
    }
    # the answers are the original's, as recorded
    assert [(r["model"], r["output"]) for r in lines(rerun, "results.jsonl")] == [
        (r["model"], r["output"]) for r in lines(original, "results.jsonl")
    ]
    assert (rerun / "report.html").is_file() and (rerun / "summary.md").is_file()

    # `harness judge RUN` is the same command; the same judge again is read from the cache.
    fake_openai.reset()
    assert harness("judge", str(original), "--judge", "openai:judge2", "-q") == 0
    assert fake_openai.request_count == 0
    assert "25.0%" in capsys.readouterr().out


def test_rerun_defaults_to_the_original_judge_and_a_changed_template(
    tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    original = original_run(tmp_path, fake_openai)
    assert harness("judge", "rerun", str(original), "--suite", str(tmp_path / "suite.yaml"), "-q") == 0
    assert fake_openai.request_count == 0  # same judge, same template: every judgment is cached
    assert "75.0%" in capsys.readouterr().out

    template = tmp_path / "strict.yaml"
    template.write_text(
        "kind: pairwise\nprompt: |-\n  STRICT. Request: {{ question }}\n  Answer A:\n  <<<\n  {{ answer_a }}\n  >>>\n\n"
        "  Answer B:\n  <<<\n  {{ answer_b }}\n  >>>\nretry_prompt: again\n"
        "verdict: {pattern: '\\[\\[([ABC])\\]\\]', first: A, second: B, tie: C}\n",
        encoding="utf-8",
    )
    assert harness("judge", "rerun", str(original), "--suite", str(tmp_path / "suite.yaml"),
                   "--template", f"pairwise={template}", "-q") == 0
    bodies = fake_openai.requests
    assert len(bodies) == 12 and {b["model"] for b in bodies} == {"judge"}
    assert all(b["messages"][-1]["content"].startswith("STRICT.") for b in bodies)
    rerun = newest_other(original)
    assert orjson.loads((rerun / "run.json").read_bytes())["judge"]["templates"]["pairwise"]["origin"] != "builtin"


def test_rerun_against_another_recorded_baseline(
    tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    original = original_run(tmp_path, fake_openai)
    suite = tmp_path / "suite.yaml"
    # a second recording whose answers are all GOOD: the candidate now wins only where it is GOOD too (ties)
    judges.baseline = {n: f"GOOD recorded {n}" for n in judges.baseline}
    assert harness("run", str(suite), "--model", "openai:base", "--no-cache", "-q", "-o", str(tmp_path / "recordings")) == 0
    (recording,) = [p for p in (tmp_path / "recordings").iterdir() if p.is_dir()]
    fake_openai.reset()
    assert harness("judge", "rerun", str(original), "--suite", str(suite),
                   "--baseline", f"run:{recording}#openai:base", "-q") == 0
    assert {b["model"] for b in fake_openai.requests} == {"judge"}
    judged = lines(newest_other(original), "judgments.jsonl")
    assert {line["baseline"] for line in judged} == {f"run:{recording}#openai:base"}
    # every model of the run is now a candidate against the new baseline
    outcomes = {(line["candidate"], line["case_id"]): line["outcome"] for line in judged}
    assert outcomes == {
        **{("openai:cand", f"q{n}"): "tie" for n in (1, 2, 3, 4, 6)}, ("openai:cand", "q5"): "loss",
        **{("openai:base", f"q{n}"): "loss" for n in (1, 2, 3, 4)}, ("openai:base", "q5"): "tie",
        ("openai:base", "q6"): "tie",
    }


def test_a_case_edited_since_the_run_is_stale_and_not_rejudged(
    tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    original = original_run(tmp_path, fake_openai)
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.replace('"Question 2"', '"Question 2 reworded"'), encoding="utf-8")
    assert harness("judge", "rerun", str(original), "--suite", str(suite), "--judge", "openai:judge2", "-q") == 0
    err = capsys.readouterr().err
    assert re.search(r"model 'openai:cand': 1 cases changed since the run recorded them .*\(q2\)", err)
    judged = {line["case_id"]: line for line in lines(newest_other(original), "judgments.jsonl")}
    assert judged["q2"]["outcome"] == "skipped" and "stale" in judged["q2"]["skipped"]
    assert len(fake_openai.requests) == 10


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_bad_reruns_are_one_line_exit_2_and_send_nothing(
    tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    original = original_run(tmp_path, fake_openai)
    suite = str(tmp_path / "suite.yaml")
    capsys.readouterr()
    assert harness("judge", "exprot", str(original)) == 2
    assert "'exprot' is neither a `harness judge` command (" in one_error_line(capsys)
    assert harness("judge", "rerun", str(tmp_path)) == 2
    assert "is not a run directory" in one_error_line(capsys)
    assert harness("judge", "rerun", str(original), "--suite", suite, "--baseline", "openai:other") == 2
    assert "a judge-only re-run generates nothing" in one_error_line(capsys)
    assert harness("judge", "rerun", str(original), "--suite", suite, "--baseline", "bse") == 2
    assert "--baseline bse: not a model of the run; use a model of the run (openai:cand, openai:base)" in (
        one_error_line(capsys)
    )
    assert harness("judge", "rerun", str(original), "--suite", suite, "--template", "pairwize=x") == 2
    assert "--template 'pairwize=x': expected KIND=TEMPLATE" in one_error_line(capsys)
    assert harness("judge", "rerun", str(original), "--suite", suite, "--judge", f"run:{original}#openai:cand") == 2
    assert "a judge must be a model that generates" in one_error_line(capsys)
    Path(suite).rename(tmp_path / "moved.yaml")
    assert harness("judge", "rerun", str(original)) == 2
    assert f"the suite run {original.name} was made from, '{suite}', is not found from here; pass --suite SUITE" in (
        one_error_line(capsys)
    )
    assert fake_openai.request_count == 0


def test_a_run_without_a_judge_needs_one(
    tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite(tmp_path)
    assert harness("run", str(suite), "--model", "openai:cand", "--model", "openai:base", "-q",
                   "-o", str(tmp_path / "reports")) == 0
    (original,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    fake_openai.reset()
    assert harness("judge", "rerun", str(original), "--suite", str(suite)) == 2
    assert f"run {original.name} had no judge: pass --judge SPEC" in one_error_line(capsys)
    # with a judge and a baseline named, it compares the two recorded models
    assert harness("judge", "rerun", str(original), "--suite", str(suite), "--judge", "openai:judge",
                   "--baseline", "openai:base", "-q") == 0
    assert {b["model"] for b in fake_openai.requests} == {"judge"}
    assert "75.0%" in capsys.readouterr().out


def test_a_run_against_a_recorded_baseline_can_be_judged_again(
    tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The re-run's models are `run:RUN#<name>`, and here a name is itself `run:...#openai:base`."""
    suite = write_suite(tmp_path)
    assert harness("run", str(suite), "--model", "openai:base", "-q", "-o", str(tmp_path / "recordings")) == 0
    (recording,) = [p for p in (tmp_path / "recordings").iterdir() if p.is_dir()]
    assert harness("run", str(suite), "--model", "openai:cand", "--baseline", f"run:{recording}#openai:base",
                   "--judge", "openai:judge", "-q", "-o", str(tmp_path / "reports")) == 0
    (original,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    fake_openai.reset()
    assert harness("judge", str(original), "--judge", "openai:judge2", "-q") == 0
    assert {b["model"] for b in fake_openai.requests} == {"judge2"}
    judged = lines(newest_other(original), "judgments.jsonl")
    assert {line["baseline"] for line in judged} == {f"run:{recording}#openai:base"}
    assert sum(line["outcome"] == "win" for line in judged) == 1  # judge2 prefers the poor answers: q5 only


def test_rejudge_from_python(tmp_path: Path, judges: TwoJudges, fake_openai: FakeOpenAIServer) -> None:
    import io

    from rich.console import Console

    from harness import rejudge_run
    from harness.api import RejudgeOptions

    original = original_run(tmp_path, fake_openai)
    outcome = rejudge_run(original, RejudgeOptions(judge="openai:judge2", output_dir=tmp_path / "again", progress=False),
                          Console(file=io.StringIO()))
    assert outcome.run_dir.parent == tmp_path / "again" and outcome.status == "complete"
    assert outcome.summary["pairwise"]["openai:cand"]["win_rate"] == 0.25
    assert {b["model"] for b in fake_openai.requests} == {"judge2"}
