"""`harness run --baseline --judge` and `harness judge export|agreement` through the real CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from harness.cli import cli, invoke
from harness.testing import FakeOpenAIServer
from tests.judging.conftest import Scripted, write_suite


def harness(*args: str) -> int:
    return invoke(lambda: cli.main(args=list(args), prog_name="harness", standalone_mode=False))


def run_dir(root: Path) -> Path:
    (found,) = [p for p in (root / "reports").iterdir() if p.is_dir()]
    return found


def test_run_with_baseline_and_judge(tmp_path: Path, scripted: Scripted, capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path)
    code = harness("run", str(suite), "--model", "openai:cand", "--baseline", "openai:base", "--judge", "openai:judge",
                   "-q", "-o", str(tmp_path / "reports"))
    assert code == 0
    out = capsys.readouterr().out
    assert "openai:cand vs openai:base" in out
    assert "75.0%" in out and "4/1/1" in out and "50% first" in out
    directory = run_dir(tmp_path)
    run = orjson.loads((directory / "run.json").read_bytes())
    assert run["status"] == "complete"
    assert run["judge"]["model"] == "openai:judge" and run["judge"]["baseline"] == "openai:base"
    assert run["judge"]["fingerprint"].startswith("openai:judge@")
    assert [m["name"] for m in run["models"]] == ["openai:cand", "openai:base"]
    assert len((directory / "judgments.jsonl").read_text().splitlines()) == 6


def test_a_judged_gate_without_a_judge_exits_2_before_sending_anything(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = harness("run", str(write_suite(tmp_path)), "--model", "openai:cand", "--baseline", "openai:base",
                   "--gate", "win_rate >= 0.5", "-q", "-o", str(tmp_path / "reports"))
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: gate 'win_rate >= 0.5' needs an LLM judge, and this run has none: pass --judge SPEC "
                   "or set `judge: {model: ...}` in the suite"]
    assert fake_openai.request_count == 0


def test_a_baseline_without_a_judge_is_compared_by_checks(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = harness("run", str(write_suite(tmp_path)), "--model", "openai:cand", "--baseline", "openai:base",
                   "-q", "-o", str(tmp_path / "reports"))
    assert code == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["note: no judge, so the candidates are compared with the baseline 'openai:base' by checks and "
                   "metrics only; pass --judge SPEC for a pairwise win rate"]
    directory = run_dir(tmp_path)
    run = orjson.loads((directory / "run.json").read_bytes())
    assert run["baseline"] == "openai:base" and run["judge"] is None
    comparison = orjson.loads((directory / "summary.json").read_bytes())["comparison"]
    assert list(comparison) == ["openai:cand"] and comparison["openai:cand"]["baseline"] == "openai:base"
    assert not (directory / "judgments.jsonl").exists()
    assert fake_openai.request_count == 12  # 6 cases x 2 models, no judge call


def test_a_judge_that_fails_every_request_exits_3(tmp_path: Path, scripted: Scripted, capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path)
    suite.write_text(
        suite.read_text() + "models:\n  dead: {spec: openai:judge, base_url: 'http://127.0.0.1:9/v1', max_retries: 0}\n"
    )
    code = harness("run", str(suite), "--model", "openai:cand", "--baseline", "openai:base", "--judge", "dead",
                   "-q", "-o", str(tmp_path / "reports"))
    assert code == 3
    err = capsys.readouterr().err
    assert "judge 'dead': the endpoint is unreachable (its first" in err and "requests all failed" in err
    run = orjson.loads((run_dir(tmp_path) / "run.json").read_bytes())
    assert run["status"] == "aborted" and "requests all failed" in run["error"]
    assert (run_dir(tmp_path) / "results.jsonl").read_text().count("\n") == 12  # the answers are kept


def test_review_export_and_agreement(tmp_path: Path, scripted: Scripted, capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path)
    assert harness("run", str(suite), "--model", "openai:cand", "--baseline", "openai:base", "--judge", "openai:judge",
                   "-q", "-o", str(tmp_path / "reports")) == 0
    directory = run_dir(tmp_path)
    assert harness("judge", "export", str(directory), "--seed", "3") == 0
    with (directory / "review.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    key = orjson.loads((directory / "review-key.json").read_bytes())["items"]
    assert len(rows) == 6 and set(key) == {row["item"] for row in rows}
    assert list(rows[0]) == ["item", "question", "answer_1", "answer_2", "verdict", "comment"]
    for row in rows:
        entry = key[row["item"]]
        candidate_answer = scripted.candidate[int(entry["case_id"][1:])]
        assert row["question"] == f"Question {entry['case_id'][1:]}"
        assert row[("answer_1" if entry["answer_1"] == "candidate" else "answer_2")] == candidate_answer
        assert "openai:" not in row["answer_1"] + row["answer_2"] + row["question"]  # the sheet is blind
    assert {entry["answer_1"] for entry in key.values()} == {"candidate", "baseline"}  # both positions used

    # the reviewer agrees with the judge except on q6 (judge: tie) where they prefer the candidate,
    # and leaves q5 blank. Judge labels: q1-q4 candidate, q6 tie; human: q1-q4 candidate, q6 candidate.
    for row in rows:
        entry = key[row["item"]]
        case = entry["case_id"]
        candidate_slot = "1" if entry["answer_1"] == "candidate" else "2"
        row["verdict"] = "" if case == "q5" else candidate_slot
    labels = tmp_path / "labels.csv"
    with labels.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    capsys.readouterr()
    assert harness("judge", "agreement", str(directory), str(labels), "--json") == 0
    result = orjson.loads(capsys.readouterr().out)
    assert (result["labelled"], result["blank"]) == (5, 1)
    assert result["with_ties"] == {"n": 5, "agreement": pytest.approx(4 / 5)}
    assert result["without_ties"] == {"n": 4, "agreement": 1.0}
    # kappa by hand: judge c,c,c,c,t; human c,c,c,c,c: p_o = 0.8, p_e = 0.8*1 + 0.2*0 = 0.8 -> 0
    assert result["cohens_kappa"] == pytest.approx(0.0)
    assert result["anchors"]["GPT-4 judge vs humans"] == {"with_ties": 0.66, "without_ties": 0.85}

    assert harness("judge", "agreement", str(directory), str(labels)) == 0
    assert "MT-Bench" in capsys.readouterr().out

    # a second export would overwrite the reviewers' sheet
    assert harness("judge", "export", str(directory)) == 2
    assert "pass --force" in capsys.readouterr().err


def test_agreement_reports_bad_labels_with_their_line(tmp_path: Path, scripted: Scripted, capsys: pytest.CaptureFixture[str]) -> None:
    suite = write_suite(tmp_path)
    assert harness("run", str(suite), "--model", "openai:cand", "--baseline", "openai:base", "--judge", "openai:judge",
                   "-q", "-o", str(tmp_path / "reports")) == 0
    directory = run_dir(tmp_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("item,verdict\nR001,1\nR002,maybe\n")
    assert harness("judge", "agreement", str(directory), str(labels)) == 2
    assert "no review-key.json" in capsys.readouterr().err
    assert harness("judge", "export", str(directory), "-n", "2") == 0
    assert harness("judge", "agreement", str(directory), str(labels)) == 2
    assert f"{labels}:3: item R002: verdict must be 1, 2 or tie, not 'maybe'" in capsys.readouterr().err
    labels.write_text("item,verdict\nR999,1\n")
    assert harness("judge", "agreement", str(directory), str(labels)) == 2
    assert "R999 are not in" in capsys.readouterr().err


def test_template_command_prints_a_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    assert harness("judge", "template", "pairwise") == 0
    assert "kind: pairwise" in capsys.readouterr().out
