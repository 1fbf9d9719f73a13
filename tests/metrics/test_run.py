"""End to end: `harness run` on suites with references and saved predictions writes the metrics."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import sacrebleu
from rouge_score import rouge_scorer

from harness.cli import cli, invoke

BASE = {
    "capital": "The capital is Lyon.",
    "answer": "forty two",
    "steps": "1. Open Settings.\n2. Click Security.",
    "no-reference": "Hello there!",
}
TUNED = {
    "capital": "Paris",
    "answer": "The answer is 42.",
    "steps": "1. Open Settings.\n2. Click Security.\n3. Enable 2FA.",
    "no-reference": "Hi!",
}
QA_SUITE = """\
name: qa
models:
  base: predictions:base.jsonl
  tuned: predictions:tuned.jsonl
defaults:
  tags: [qa]
cases:
  - id: capital
    input: What is the capital of France?
    reference: Paris
    tags: [geo]
    checks: [{metric: token_f1, min: 0.5}]
  - id: answer
    input: What is the answer?
    references: ["The answer is 42.", "forty-two"]
  - id: steps
    input: How do I turn on 2FA?
    reference: "1. Open Settings.\\n2. Click Security.\\n3. Enable 2FA."
  - id: no-reference
    input: Say hello.
"""


def _run(args: list[str]) -> int:
    return invoke(lambda: cli.main(args=args, prog_name="harness", standalone_mode=False))


def _run_dir(out: Path) -> Path:
    (run_dir,) = [path for path in out.iterdir() if path.is_dir()]  # beside history.sqlite
    return run_dir


def _load(run_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, str]], dict[str, Any]]:
    records = [orjson.loads(line) for line in (run_dir / "results.jsonl").read_bytes().splitlines()]
    with (run_dir / "results.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return records, rows, orjson.loads((run_dir / "summary.json").read_bytes())


def test_run_writes_reference_equal_metrics(
    tmp_path: Path,
    write_suite: Callable[[str], Path],
    write_predictions: Callable[[str, dict[str, str]], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_predictions("base.jsonl", BASE)
    write_predictions("tuned.jsonl", TUNED)
    suite = write_suite(QA_SUITE)
    assert _run(["run", str(suite), "-o", str(tmp_path / "out"), "-q"]) == 0
    records, rows, summary = _load(_run_dir(tmp_path / "out"))

    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    by_key = {(r["model"], r["case_id"]): r for r in records}
    for model, outputs in (("base", BASE), ("tuned", TUNED)):
        for case_id in ("capital", "answer", "steps"):
            record = by_key[(model, case_id)]
            output, references = outputs[case_id], record["references"]
            expected = {k: v.fmeasure for k, v in rouge.score_multi(references, output).items()}
            expected["bleu"] = sacrebleu.sentence_bleu(output, references).score
            expected["chrf"] = sacrebleu.sentence_chrf(output, references).score
            for name, value in expected.items():
                assert record["metrics"][name] == pytest.approx(value, abs=1e-9), (model, case_id, name)
        assert "metrics" not in by_key[(model, "no-reference")]
        scored = [by_key[(model, c)] for c in ("capital", "answer", "steps")]
        streams = [[r["references"][i] if i < len(r["references"]) else None for r in scored] for i in range(2)]
        block = summary["models"][model]
        assert block["metrics"]["bleu"]["value"] == pytest.approx(
            sacrebleu.corpus_bleu([outputs[r["case_id"]] for r in scored], streams).score, abs=1e-9
        )
        assert block["metrics"]["bleu"]["n"] == 3
        assert set(block["metrics"]["rougeL"]["ci"]) == {"low", "high", "confidence"}
        assert block["by_tag"]["geo"]["metrics"]["exact_match"]["n"] == 1
        assert block["by_tag"]["qa"]["metrics"]["token_f1"]["n"] == 3

    # Exact match and F1 by the SQuAD definitions: "Paris" vs "Paris", "The answer is 42." vs the same.
    assert by_key[("tuned", "capital")]["metrics"]["exact_match"] == 1.0
    assert by_key[("tuned", "answer")]["metrics"]["exact_match"] == 1.0
    assert by_key[("base", "answer")]["metrics"]["exact_match"] == 0.0
    # "capital is lyon" vs "paris": no shared token, so the F1 check fails the base model's case.
    failing = by_key[("base", "capital")]
    assert failing["metrics"]["token_f1"] == 0.0
    assert failing["passed"] is False
    assert failing["checks"][-1] == {"name": "token_f1 >= 0.5", "passed": False, "reason": "token_f1 = 0, below the minimum 0.5"}
    assert by_key[("tuned", "capital")]["passed"] is True
    assert summary["models"]["base"]["failing_checks"] == {"token_f1 >= 0.5": 1}

    header = list(rows[0])
    assert {f"metric.{name}" for name in ("exact_match", "token_f1", "rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf")} <= set(header)
    csv_rows = {(row["model"], row["case_id"]): row for row in rows}
    assert float(csv_rows[("tuned", "steps")]["metric.rougeL"]) == pytest.approx(by_key[("tuned", "steps")]["metrics"]["rougeL"])
    assert csv_rows[("tuned", "no-reference")]["metric.rougeL"] == ""

    printed = capsys.readouterr().out
    assert "reference metrics (95% CI)" in printed
    assert "rougeLsum" in printed


def test_run_on_a_label_suite_reports_classification(
    tmp_path: Path, write_suite: Callable[[str], Path], write_predictions: Callable[[str, dict[str, str]], Path]
) -> None:
    write_predictions("predictions.jsonl", {"1": "Positive!", "2": "I'd say negative.", "3": "no clue", "4": "neutral"})
    suite = write_suite(
        """\
        labels: [positive, negative, neutral]
        models: {clf: predictions:predictions.jsonl}
        cases:
          - {id: "1", input: great product, reference: positive}
          - {id: "2", input: awful, reference: negative}
          - {id: "3", input: meh, reference: neutral}
          - {id: "4", input: fine I guess, reference: positive}
        """
    )
    assert _run(["run", str(suite), "-o", str(tmp_path / "out"), "-q"]) == 0
    records, rows, summary = _load(_run_dir(tmp_path / "out"))
    assert [r["label"] for r in records] == [
        {"reference": "positive", "predicted": "positive"},
        {"reference": "negative", "predicted": "negative"},
        {"reference": "neutral", "predicted": None},
        {"reference": "positive", "predicted": "neutral"},
    ]
    assert [row["predicted_label"] for row in rows] == ["positive", "negative", "", "neutral"]
    block = summary["models"]["clf"]
    assert block["metrics"]["accuracy"]["value"] == pytest.approx(0.5)
    # positive: tp 1, predicted 1, support 2; negative: 1/1/1; neutral: 0/1/1 -> macro F1 (2/3 + 1 + 0) / 3
    assert block["metrics"]["f1_macro"]["value"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert block["classification"]["confusion_matrix"]["matrix"] == [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]
    assert block["classification"]["unmatched"] == 1
    assert "rouge1" not in block["metrics"]


def test_bad_metric_config_exits_2_with_one_line(
    tmp_path: Path, write_suite: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write_suite("metrics: [blue]\ncases: [{id: a, input: hi, reference: x}]\n")
    assert _run(["run", str(suite), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert capsys.readouterr().err.strip() == f"{suite}:1:11: unknown metric 'blue' (did you mean 'bleu'?)"
    assert not (tmp_path / "out").exists()
