from __future__ import annotations

from pathlib import Path

import pytest

from harness.data.check import auto_epochs, check_files
from harness.data.scan import ScanOptions
from harness.data.tokens import ApproximateCounter, approximate_tokens
from harness.pricing import packaged_price_table
from tests.data.conftest import LONG_ANSWER, NEAR_ANSWER, chat, filler, write_jsonl


@pytest.mark.parametrize(("examples", "epochs"), [(10, 10), (20, 5), (40, 3), (5000, 3), (10_000, 2), (30_000, 1), (100, 3)])
def test_auto_epochs_follow_openai(examples: int, epochs: int) -> None:
    assert auto_epochs(examples) == epochs


def test_tokens_and_cost_by_hand(tmp_path: Path) -> None:
    rows = filler(12)
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    report = check_files([path], ScanOptions(), ApproximateCounter(), packaged_price_table(), model="gpt-4o-mini", epochs=2)
    expected = sum(sum(4 + approximate_tokens(m["content"]) for m in row["messages"]) + 3 for row in rows)
    assert report.tokens.total == expected == report.tokens.clean_total
    assert report.cost is not None
    assert report.cost.training_tokens == expected * 2
    assert report.cost.cost == pytest.approx(round(expected * 2 * 3.00 / 1e6, 4))
    assert report.cost.priced_as == "gpt-4o-mini" and report.cost.price_per_1m == 3.00


def test_clean_total_leaves_out_invalid_examples_and_copies(tmp_path: Path) -> None:
    rows = [*filler(10), chat("How do I reset my password?", LONG_ANSWER), chat("How do I reset my password?", NEAR_ANSWER),
            chat("How do I reset my password?", LONG_ANSWER), chat("Where is it?", None)]
    report = check_files([write_jsonl(tmp_path / "t.jsonl", rows)], ScanOptions(), ApproximateCounter(),
                         packaged_price_table(), epochs=None)
    assert report.duplicates == 1 and report.near_duplicates == 1
    assert report.kept_by_clean == 11
    per_example = [sum(4 + approximate_tokens(m["content"]) for m in row["messages"]) + 3 for row in rows]
    assert report.tokens.clean_total == sum(per_example[:11])
    assert report.cost is not None and report.cost.epochs_auto and report.cost.epochs == 10


def test_duplicates_across_files_name_the_other_file(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [*filler(10), chat("How do I reset my password?", LONG_ANSWER)])
    val = write_jsonl(tmp_path / "val.jsonl", [chat("How do I reset my password?", LONG_ANSWER)])
    report = check_files([train, val], ScanOptions(), ApproximateCounter(), packaged_price_table())
    (problem,) = report.problems
    assert (problem.file, problem.line, problem.kind) == (str(val), 1, "duplicate")
    assert problem.message == f"duplicate of {train}:11"


def test_ignored_kinds_are_neither_listed_nor_counted(tmp_path: Path) -> None:
    rows = [*filler(10), chat("Hi", "Hello there, how can I help you today?")]
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    report = check_files([path], ScanOptions(), ApproximateCounter(), packaged_price_table(), ignore=frozenset({"short_content"}))
    assert report.problems == [] and report.with_problems == 0
    with pytest.raises(ValueError, match="unknown problem kind"):
        check_files([path], ScanOptions(), ApproximateCounter(), packaged_price_table(), ignore=frozenset({"nope"}))


def test_listing_is_capped_but_counts_are_complete(tmp_path: Path) -> None:
    rows = [chat(f"Hi {i}", f"Hello there number {i}, how can I help?") for i in range(30)]
    report = check_files([write_jsonl(tmp_path / "t.jsonl", rows)], ScanOptions(), ApproximateCounter(),
                         packaged_price_table(), keep_per_kind=5)
    assert report.problems_by_kind["short_content"] == 30
    assert sum(1 for p in report.problems if p.kind == "short_content") == 5
    assert report.truncated == {"short_content": 25}


def test_unknown_model_has_no_price(tmp_path: Path) -> None:
    report = check_files([write_jsonl(tmp_path / "t.jsonl", filler(10))], ScanOptions(), ApproximateCounter(),
                         packaged_price_table(), model="llama-3-8b")
    assert report.cost is not None and report.cost.cost is None and report.cost.priced_as is None
