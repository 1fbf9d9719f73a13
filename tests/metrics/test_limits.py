"""A text over a metric's size limit is scored without that metric, with a warning naming the case,
the metric and the limit; never a silent zero, and the other metrics are unaffected."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from harness.api import RunOptions, run_suite
from harness.metrics.engine import CaseScorer
from harness.metrics.limits import TEXT_LIMITS, over_limit
from harness.metrics.plan import build_plan
from harness.suite.loader import load_suite

WORDS = "the quick brown fox jumps over the lazy dog near a river bank "


def test_over_limit_names_the_text_and_the_limit() -> None:
    assert over_limit("chrf", "short", ["x" * 10]) is None
    assert over_limit("chrf", "x" * 1_000_001, ["ok"]) == "the output is 1,000,001 characters, over chrf's limit of 1,000,000"
    assert over_limit("bleu", "ok", ["ok", "y" * 2_000_001]) == "reference 2 is 2,000,001 characters, over bleu's limit of 2,000,000"
    assert set(TEXT_LIMITS) == {"exact_match", "token_f1", "rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf"}


def test_a_case_over_a_limit_keeps_its_other_metrics(tmp_path: Path) -> None:
    huge = (WORDS * (2_100_000 // len(WORDS) + 1))[:2_100_000]  # over chrf, bleu, rougeL, rougeLsum; under the rest
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "models: {p: 'predictions:p.jsonl'}\nmetrics: [chrf, token_f1, rougeL]\ncases:\n"
        "  - {id: small, input: q, reference: the quick brown fox}\n"
        "  - {id: huge, input: q, reference: REF, checks: [{metric: chrf, min: 10}]}\n".replace("REF", "'" + huge + "'")
    )
    (tmp_path / "p.jsonl").write_text(
        json.dumps({"id": "small", "output": "the quick brown fox"}) + "\n" + json.dumps({"id": "huge", "output": "the quick fox"}) + "\n"
    )
    outcome = run_suite(suite, RunOptions(output_dir=tmp_path / "out", progress=False), Console(file=io.StringIO()))
    small, big = outcome.records
    assert set(small["metrics"]) == {"chrf", "token_f1", "rougeL"}
    assert set(big["metrics"]) == {"token_f1"} and big["metrics"]["token_f1"] > 0
    assert big["metrics_skipped"] == {
        "chrf": "the reference is 2,100,000 characters, over chrf's limit of 1,000,000",
        "rougeL": "the reference is 2,100,000 characters, over rougeL's limit of 500,000",
    }
    assert "chrf" not in big.get("metric_stats", {})
    assert outcome.warnings == [
        "chrf not computed for case 'huge' of model 'p': the reference is 2,100,000 characters, over chrf's limit of "
        "1,000,000; left out of chrf's figures, not scored as zero",
        "rougeL not computed for case 'huge' of model 'p': the reference is 2,100,000 characters, over rougeL's limit "
        "of 500,000; left out of rougeL's figures, not scored as zero",
    ]
    metrics = outcome.summary["models"]["p"]["metrics"]
    assert metrics["chrf"]["n"] == 1 and metrics["token_f1"]["n"] == 2
    assert big["checks"][-1]["passed"] is False and "over chrf's limit" in big["checks"][-1]["reason"]


@pytest.mark.parametrize("metric", sorted(TEXT_LIMITS))
def test_each_metric_skips_exactly_above_its_limit(metric: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TEXT_LIMITS, metric, 40)
    suite = tmp_path / "s.yaml"
    suite.write_text(f"metrics: [{metric}]\ncases:\n  - {{input: q, reference: r}}\n")
    scorer = CaseScorer(build_plan(load_suite(suite).metrics, None, load_suite(suite).cases, tmp_path))
    at_limit = scorer.score("a b c d e f g h i j k l m n o p q r st", ["a b c d e f g h i j k l m n o p q r st"])
    assert len("a b c d e f g h i j k l m n o p q r st") <= 40 and metric in at_limit.metrics and not at_limit.skipped
    over = scorer.score("a b c d e f g h i j k l m n o p q r s t u", ["a b"])
    assert metric not in over.metrics and metric in over.skipped and metric not in over.stats
