"""A run directory written without any model: many cases, two models, pairwise judgments.

For report tests and benchmarks at sizes a real run would take too long to produce
(`bench/report_render.py` renders 5,000 cases). The files have the shapes the pipeline writes.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from harness.judging.summary import judging_summary
from harness.run.store import JUDGMENTS_FILE, RESULTS_FILE, RUN_FILE, SUMMARY_FILE, write_json, write_jsonl
from harness.run.summary import summarize

WORDS = ("open", "settings", "billing", "click", "the", "account", "export", "confirm", "email", "page", "step", "then")


def _answer(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def write_synthetic_run(directory: Path, cases: int, seed: int = 7, words: int = 60) -> Path:
    """A finished run of suite `synthetic`: models `tuned` (candidate) and `base` (baseline), judged pairwise."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    tags = ("account", "billing", "data", "security")
    records: list[dict[str, Any]] = []
    judgments: list[dict[str, Any]] = []
    for model, pass_share in (("tuned", 0.85), ("base", 0.6)):
        for i in range(cases):
            passed = rng.random() < pass_share
            output = _answer(rng, words)
            records.append({
                "case_id": f"case-{i:05d}", "model": model, "repeat": 0, "input": f"Question {i}: {_answer(rng, 12)}?",
                "messages": [{"role": "user", "content": f"Question {i}"}], "references": [_answer(rng, 20)],
                "tags": [tags[i % len(tags)]], "output": output, "error": None, "finish_reason": "stop",
                "usage": {"prompt_tokens": 40, "completion_tokens": words}, "latency_s": 0.2 + rng.random(),
                "cached": False, "passed": passed,
                "checks": [{"name": "required: 'step'", "passed": passed,
                            "reason": "found 'step'" if passed else "missing"}],
                "metadata": {},
            })
    for i in range(cases):
        outcome = rng.choice(("win", "win", "tie", "loss"))
        judgments.append({
            "kind": "pairwise", "candidate": "tuned", "baseline": "base", "case_id": f"case-{i:05d}", "repeat": 0,
            "tags": [tags[i % len(tags)]], "judge": "judge", "template": "pairwise", "template_sha256": "0" * 64,
            "outcome": outcome, "score": {"win": 1.0, "tie": 0.5, "loss": 0.0}[outcome], "soft": None,
            "inconsistent": False, "identical": False, "invalid": None, "skipped": None,
            "candidate_chars": 300, "baseline_chars": 300,
            "orders": [{"order": 1, "answer_a": "tuned", "answer_b": "base", "reply": "A is better. [[A]]",
                        "verdict": "A", "slot": "first", "winner": "candidate", "invalid": None}],
        })
    summary = summarize(records, ["tuned", "base"])
    summary.update(judging_summary(judgments))
    run = {
        "harness_version": "synthetic", "run_id": directory.name, "status": "complete",
        "started_at": "2025-01-01T00:00:00+00:00", "finished_at": "2025-01-01T00:10:00+00:00",
        "suite": {"path": "synthetic.yaml", "name": "synthetic", "description": None, "sha256": "0" * 64,
                  "sources": {}, "cases": cases},
        "models": [{"name": "tuned", "spec": "openai:tuned"}, {"name": "base", "spec": "openai:base"}],
        "options": {"baseline": "base"},
        "judge": {"model": "judge", "spec": "openai:judge", "baseline": "base", "candidates": ["tuned"]},
        "gates": ["win_rate >= 0.6", "pass_rate[tuned] >= 0.8"],
    }
    write_json(directory / RUN_FILE, run)
    write_jsonl(directory / RESULTS_FILE, records)
    write_jsonl(directory / JUDGMENTS_FILE, judgments)
    write_json(directory / SUMMARY_FILE, summary)
    return directory
