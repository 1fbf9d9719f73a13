from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from harness.data.problems import DataError
from harness.data.scan import ScanOptions
from harness.data.split import deal_groups, field_value, split_file
from harness.errors import UsageError
from tests.data.conftest import chat, filler, write_jsonl

FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}


def read(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rows = filler(200)
    # Five families (an answer, a near copy with one word changed, an exact copy) spread over the file.
    extra = filler(10, seed=99)
    for family in range(5):
        # ~70 words, so one changed word leaves the copies ~0.9 similar.
        base = f"Brand{family} says: " + " ".join(extra[2 * family + k]["messages"][2]["content"] for k in (0, 1))
        words = base.split()
        words[len(words) // 2] = "changed"
        near = " ".join(words)
        rows.insert(family * 40, chat(f"Reset help {family}?", base))
        rows.insert(family * 40 + 20, chat(f"Reset help {family}?", near))
        rows.insert(family * 40 + 30, chat(f"Reset help {family}?", base))
    for i, row in enumerate(rows):
        row["metadata"] = {"topic": ["account", "billing", "devices"][i % 3]}
    return write_jsonl(tmp_path / "data.jsonl", rows)


def test_same_seed_same_split_and_another_seed_another(data: Path, tmp_path: Path) -> None:
    first = split_file(data, FRACTIONS, 7, ScanOptions(), tmp_path / "a")
    second = split_file(data, FRACTIONS, 7, ScanOptions(), tmp_path / "b")
    third = split_file(data, FRACTIONS, 8, ScanOptions(), tmp_path / "c")
    for name in ("train", "val", "test"):
        assert read(Path(first.outputs[name])) == read(Path(second.outputs[name]))
    assert read(Path(first.outputs["test"])) != read(Path(third.outputs["test"]))


def test_every_example_lands_once_in_proportion(data: Path, tmp_path: Path) -> None:
    report = split_file(data, FRACTIONS, 1, ScanOptions(), tmp_path)
    lines = [line for name in ("train", "val", "test") for line in read(Path(report.outputs[name]))]
    assert sorted(lines) == sorted(read(data))
    assert report.counts["train"] + report.counts["val"] + report.counts["test"] == 215
    # Groups of 3 can overshoot a target by at most 2 examples.
    assert abs(report.counts["val"] - 21.5) <= 3 and abs(report.counts["test"] - 21.5) <= 3
    assert report.groups == 200 + 5 and report.grouped_examples == 15
    assert Path(report.outputs["train"]) == tmp_path / "data.train.jsonl"


def test_near_duplicates_stay_together(data: Path, tmp_path: Path) -> None:
    for seed in range(5):
        report = split_file(data, FRACTIONS, seed, ScanOptions(), tmp_path / str(seed))
        for family in range(5):
            holders = {
                name for name in ("train", "val", "test")
                for line in read(Path(report.outputs[name])) if f"Brand{family} ".encode() in line
            }
            assert len(holders) == 1, (seed, family, holders)


def test_stratified_split_keeps_each_value_in_proportion(data: Path, tmp_path: Path) -> None:
    report = split_file(data, {"train": 0.5, "val": 0.0, "test": 0.5}, 3, ScanOptions(near_duplicates=False),
                        tmp_path, stratify="metadata.topic")
    assert set(report.outputs) == {"train", "test"}
    assert report.strata is not None and set(report.strata) == {"account", "billing", "devices"}
    for counts in report.strata.values():
        assert abs(counts["train"] - counts["test"]) <= 3
    for line in read(Path(report.outputs["test"])):
        assert orjson.loads(line)["metadata"]["topic"] in report.strata


def test_dealing_by_hand() -> None:
    # Ten singletons, 50/50: the quota rule alternates, so exactly five each.
    assignment = deal_groups(dict.fromkeys(range(10), 1), {}, {"train": 0.5, "val": 0.0, "test": 0.5}, seed=0)
    assert sorted(assignment.values()).count("train") == 5
    assert field_value({"a": {"b": 3}}, "a.b") == "3" and field_value({}, "a.b") == "<missing>"


def test_bad_fractions_and_unreadable_lines(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [*filler(5), "{nope"])
    with pytest.raises(UsageError, match="add up to 1"):
        split_file(path, {"train": 0.8, "val": 0.1, "test": 0.2}, 0, ScanOptions())
    with pytest.raises(UsageError, match="between 0 and 1"):
        split_file(path, {"train": 1.2, "val": -0.1, "test": -0.1}, 0, ScanOptions())
    with pytest.raises(DataError) as info:
        split_file(path, FRACTIONS, 0, ScanOptions())
    assert info.value.lines()[0].startswith(f"{path}:6: invalid_json")
    assert not (tmp_path / "d.train.jsonl").exists()
