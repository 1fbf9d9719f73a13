"""Human review of pairwise judgments: a blind review sheet, and judge-human agreement from the filled sheet.

The sheet shows each sampled item's question and the two answers in a random order, with an
empty verdict column (1, 2 or tie). Which answer is whose lives in a separate key file in the
run directory, so the sheet can go to reviewers as is. Agreement follows the MT-Bench
definitions: with ties (three labels) and without ties (items where neither side said tie),
plus Cohen's kappa over the three labels.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from harness.errors import Diagnostic, SuiteError, UsageError, file_problem
from harness.run.store import RunData, utc_now, write_json
from harness.stats.agreement import agreement_rate, cohens_kappa

SHEET_FILE = "review.csv"
KEY_FILE = "review-key.json"
SHEET_COLUMNS = ("item", "question", "answer_1", "answer_2", "verdict", "comment")
HUMAN_LABELS = {"1": "1", "2": "2", "tie": "tie"}

# Published reference points (Zheng et al. 2023, MT-Bench human judgments, setup S2):
# agreement with ties / without ties.
ANCHORS = {
    "GPT-4 judge vs humans": (0.66, 0.85),
    "human vs human": (0.63, 0.81),
}
_JUDGE_LABEL = {"win": "candidate", "loss": "baseline", "tie": "tie"}


def _question(record: dict[str, Any]) -> str:
    """The prompt as a reviewer should read it: earlier turns, then the final request."""
    messages = [m for m in record.get("messages") or [] if m.get("role") != "system"]
    if len(messages) <= 1:
        return str(record.get("input") or "")
    return "\n".join(f"[{m['role']}] {m['content']}" for m in messages)


def _judged_items(run: RunData, candidate: str | None) -> list[dict[str, Any]]:
    # Battles vs the baseline only: round-robin battles between two candidates are not in a review sheet.
    lines = [line for line in run.judgments if line.get("kind") == "pairwise" and line.get("versus_baseline", True)]
    if not lines:
        raise UsageError(f"{run.path}: no pairwise judgments (run with --baseline and --judge first)")
    candidates = list(dict.fromkeys(line["candidate"] for line in lines))
    if candidate is not None and candidate not in candidates:
        raise UsageError(f"candidate '{candidate}' was not compared in {run.path} (compared: {', '.join(candidates)})")
    # Identical answers were never shown to the judge, invalid items have no judge verdict.
    return [
        line
        for line in lines
        if (candidate is None or line["candidate"] == candidate) and line["outcome"] in _JUDGE_LABEL and not line["identical"]
    ]


def export_review(
    run: RunData, sheet: Path, limit: int = 100, seed: int = 0, candidate: str | None = None, force: bool = False
) -> tuple[int, Path]:
    """Write the review sheet and its key; returns (rows written, key path)."""
    if sheet.exists() and not force:
        raise UsageError(f"{sheet} exists (it may hold reviewers' verdicts); pass --force to overwrite it")
    items = _judged_items(run, candidate)
    if not items:
        raise UsageError(f"{run.path}: no judged item to review (every item was identical, skipped or invalid)")
    answers = {(r["model"], r["case_id"], int(r.get("repeat", 0))): r for r in run.results}
    rng = np.random.default_rng(seed)
    chosen: list[dict[str, Any]] = []
    for name in dict.fromkeys(item["candidate"] for item in items):
        group = [item for item in items if item["candidate"] == name]
        picks = rng.choice(len(group), size=min(limit, len(group)), replace=False)
        chosen.extend(group[int(i)] for i in sorted(picks))
    order = rng.permutation(len(chosen))
    width = max(3, len(str(len(chosen))))
    key: dict[str, Any] = {}
    rows = []
    for position, index in enumerate(order, start=1):
        item = chosen[int(index)]
        ident = (item["case_id"], int(item["repeat"]))
        mine, theirs = answers.get((item["candidate"], *ident)), answers.get((item["baseline"], *ident))
        if mine is None or theirs is None:
            raise UsageError(f"{run.path}: results.jsonl lacks the answers of case '{item['case_id']}'")
        candidate_first = bool(rng.integers(0, 2))
        first, second = (mine, theirs) if candidate_first else (theirs, mine)
        name = f"R{position:0{width}d}"
        key[name] = {
            "candidate": item["candidate"],
            "baseline": item["baseline"],
            "case_id": item["case_id"],
            "repeat": item["repeat"],
            "answer_1": "candidate" if candidate_first else "baseline",
        }
        rows.append([name, _question(mine), first.get("output") or "", second.get("output") or "", "", ""])
    key_path = run.path / KEY_FILE
    target = sheet
    try:
        sheet.parent.mkdir(parents=True, exist_ok=True)
        with sheet.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(SHEET_COLUMNS)
            writer.writerows(rows)
        target = key_path
        write_json(key_path, {"run_id": run.run.get("run_id"), "sheet": str(sheet), "seed": seed, "created": utc_now(),
                              "items": key})
    except OSError as exc:
        raise UsageError(file_problem(exc, target, "write")) from None
    return len(rows), key_path


def read_labels(path: Path) -> tuple[dict[str, str], int]:
    """(item -> "1" | "2" | "tie", rows left blank) from a filled review sheet; located errors."""
    shown = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror}") from None
    labels: dict[str, str] = {}
    blank = 0
    problems: list[Diagnostic] = []
    with handle:
        reader = csv.DictReader(handle)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if "item" not in columns or "verdict" not in columns:
            raise SuiteError([Diagnostic(shown, "the first row must name the columns, including `item` and `verdict`", 1)])
        reader.fieldnames = columns
        for row in reader:
            item = (row.get("item") or "").strip()
            verdict = (row.get("verdict") or "").strip().lower()
            if not item:
                continue
            if not verdict:
                blank += 1
                continue
            if verdict not in HUMAN_LABELS:
                problems.append(Diagnostic(shown, f"item {item}: verdict must be 1, 2 or tie, not '{verdict}'", reader.line_num))
            elif item in labels:
                problems.append(Diagnostic(shown, f"item {item} is labelled twice", reader.line_num))
            else:
                labels[item] = HUMAN_LABELS[verdict]
    if problems:
        raise SuiteError(problems)
    return labels, blank


@dataclass(frozen=True)
class Agreement:
    labelled: int
    blank: int
    with_ties: tuple[int, float | None]
    without_ties: tuple[int, float | None]
    kappa: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "labelled": self.labelled,
            "blank": self.blank,
            "with_ties": {"n": self.with_ties[0], "agreement": self.with_ties[1]},
            "without_ties": {"n": self.without_ties[0], "agreement": self.without_ties[1]},
            "cohens_kappa": self.kappa,
            "anchors": {name: {"with_ties": a, "without_ties": b} for name, (a, b) in ANCHORS.items()},
        }


def judge_human_agreement(run: RunData, labels_path: Path) -> Agreement:
    key_path = run.path / KEY_FILE
    if not key_path.is_file():
        raise UsageError(f"{run.path} has no {KEY_FILE}: export a review sheet with `harness judge export {run.path}` first")
    key: dict[str, Any] = orjson.loads(key_path.read_bytes())["items"]
    labels, blank = read_labels(labels_path)
    unknown = sorted(set(labels) - set(key))
    if unknown:
        shown = ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise UsageError(f"{labels_path}: item(s) {shown} are not in {key_path} (a sheet from another export?)")
    verdicts = {
        (line["candidate"], line["case_id"], int(line["repeat"])): _JUDGE_LABEL.get(line["outcome"])
        for line in run.judgments
        if line.get("kind") == "pairwise" and line.get("versus_baseline", True)
    }
    judge: list[str] = []
    human: list[str] = []
    for item, label in labels.items():
        entry = key[item]
        verdict = verdicts.get((entry["candidate"], entry["case_id"], int(entry["repeat"])))
        if verdict is None:
            raise UsageError(f"{run.path}: judgments.jsonl has no verdict for review item {item} (case '{entry['case_id']}')")
        if label == "tie":
            human.append("tie")
        else:
            first_is_candidate = entry["answer_1"] == "candidate"
            human.append("candidate" if (label == "1") == first_is_candidate else "baseline")
        judge.append(verdict)
    return _agreement(judge, human, blank)


def _agreement(judge: Sequence[str], human: Sequence[str], blank: int) -> Agreement:
    return Agreement(
        labelled=len(judge),
        blank=blank,
        with_ties=agreement_rate(judge, human),
        without_ties=agreement_rate(judge, human, ignore="tie"),
        kappa=cohens_kappa(judge, human),
    )
