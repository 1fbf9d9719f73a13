from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from harness.api import RunOptions, run_suite
from harness.data.contamination import find_contamination, run_warning
from harness.errors import UsageError
from harness.suite.loader import load_suite
from tests.data.conftest import LONG_ANSWER, OTHER_ANSWER, chat, filler, write_jsonl

SUITE = """\
name: support
cases:
  - id: planted-exact
    input: "How do I turn on two-factor authentication for my TechCorp account?"
    reference: "Open Settings, then Security, and press Enable."
  - id: planted-near
    input: "Where can I find and download last month's invoice as a PDF?"
  - id: planted-reference
    input: "Explain the password reset flow."
    reference: "{reset}"
  - id: embedded
    input: "What is the refund policy for opened earbuds bought online last week?"
  - id: clean
    input: "Can I change the colour theme of the dashboard to dark mode?"
    reference: "Yes: open Settings, Appearance, and pick Dark."
  - id: short
    input: "Hello"
{extra}"""


def make_suite(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(reset=LONG_ANSWER, extra=extra), encoding="utf-8")
    return path


def make_training(tmp_path: Path) -> Path:
    rows = [
        *filler(20),
        chat("How do I turn on two-factor authentication for my TechCorp account?", "Go to Settings > Security."),  # 21
        chat("Where could I find and download last month's invoice as a PDF?", OTHER_ANSWER),  # 22: near (edited)
        chat("How does a reset work?", LONG_ANSWER),                                              # 23: reference leaked
        chat("Customer asks: what is the refund policy for opened earbuds bought online last week? Answer kindly.",
             "Opened earbuds can be returned within 14 days."),                                  # 24: embedded
        chat("Hello", "Hi! How can I help?"),                                                    # 25: short, exact
        chat("hi there hello", "Greetings to you as well, friend."),                              # 26: short, not exact
    ]
    return write_jsonl(tmp_path / "train.jsonl", rows)


def test_planted_cases_are_found_with_their_match(tmp_path: Path) -> None:
    suite = load_suite(make_suite(tmp_path))
    report = find_contamination([make_training(tmp_path)], suite.cases, suite.name)
    found = {(m.case_id, m.field): m for m in report.matches}
    assert set(found) == {("planted-exact", "input"), ("planted-near", "input"), ("planted-reference", "reference"),
                          ("embedded", "input"), ("short", "input")}
    train = str(tmp_path / "train.jsonl")
    assert found[("planted-exact", "input")].kind == "exact"
    assert found[("planted-exact", "input")].train_at == f"{train}:21"
    assert found[("planted-near", "input")].kind == "near"
    assert 0.8 <= found[("planted-near", "input")].overlap < 1
    assert found[("planted-reference", "reference")].train_at == f"{train}:23"
    assert found[("planted-reference", "reference")].train_role == "assistant"
    assert found[("embedded", "input")].overlap == 1.0 and found[("embedded", "input")].kind == "near"
    assert found[("short", "input")].kind == "exact" and found[("short", "input")].train_at == f"{train}:25"
    assert report.contaminated_cases == 5 and report.cases == 6 and report.training_examples == 26


def test_clean_training_data_finds_nothing(tmp_path: Path) -> None:
    suite = load_suite(make_suite(tmp_path))
    train = write_jsonl(tmp_path / "clean.jsonl", filler(50))
    report = find_contamination([train], suite.cases, suite.name)
    assert report.matches == [] and report.contaminated_cases == 0


def test_threshold_is_checked(tmp_path: Path) -> None:
    suite = load_suite(make_suite(tmp_path))
    with pytest.raises(UsageError):
        find_contamination([make_training(tmp_path)], suite.cases, suite.name, threshold=0)


def test_run_warns_when_the_suite_names_its_training_file(tmp_path: Path) -> None:
    make_training(tmp_path)
    suite_path = make_suite(tmp_path, extra="training_data: train.jsonl\n")
    predictions = tmp_path / "preds.jsonl"
    write_jsonl(predictions, [{"id": case_id, "output": "An answer."} for case_id in
                              ("planted-exact", "planted-near", "planted-reference", "embedded", "clean", "short")])
    console = Console(stderr=False, record=True, width=400)
    outcome = run_suite(suite_path, RunOptions(models=[f"predictions:{predictions}"], output_dir=tmp_path / "runs",
                                               progress=False), console)
    assert outcome.status == "complete"
    lines = [line for line in console.export_text().splitlines() if line.startswith("warning:")]
    assert len(lines) == 1
    assert lines[0].startswith("warning: 5 of 6 cases appear in the training data: planted-exact (input ~ ")
    assert "harness data contamination --suite" in lines[0]


def test_no_warning_without_matches_and_a_clear_error_for_a_missing_file(tmp_path: Path) -> None:
    suite = load_suite(make_suite(tmp_path))
    write_jsonl(tmp_path / "clean.jsonl", filler(20))
    assert run_warning(suite.path, ["clean.jsonl"], suite.cases, suite.name) is None
    assert run_warning(suite.path, [], suite.cases, suite.name) is None
    with pytest.raises(UsageError, match=r"training_data 'missing\.jsonl' not found"):
        run_warning(suite.path, ["missing.jsonl"], suite.cases, suite.name)


def test_training_data_key_is_strict(tmp_path: Path) -> None:
    from harness.errors import SuiteError

    suite = load_suite(make_suite(tmp_path, extra="training_data: [a.jsonl, b.jsonl]\n"))
    assert suite.spec is not None and suite.spec.training_data == ["a.jsonl", "b.jsonl"]
    with pytest.raises(SuiteError, match="training_data"):
        load_suite(make_suite(tmp_path, extra="training_data: {path: a.jsonl}\n"))
