from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from harness.data.clean import clean_file
from harness.data.scan import ScanOptions
from harness.errors import UsageError
from tests.data.conftest import LONG_ANSWER, NEAR_ANSWER, chat, filler, write_jsonl


def read_jsonl(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    rows = [
        *filler(3),                                                                        # 1-3 kept
        chat("How do I reset my password?", LONG_ANSWER),                                  # 4 kept
        chat("How do I reset my password?", NEAR_ANSWER),                                  # 5 near copy of 4
        chat("how do I reset my PASSWORD", LONG_ANSWER),                                   # 6 exact copy of 4
        "{broken",                                                                         # 7 invalid JSON
        chat("Where is my parcel today?", None),                                           # 8 no assistant
        chat("Please email me at jane.doe@gmail.com or call (415) 555-2671 about my order.",
             "Sure, we will contact jane.doe@gmail.com within a day; your card 4111 1111 1111 1111 was not charged."),  # 9
        chat("Write something mean about my boss please.", "I'm sorry, but I can't help with that."),  # 10
    ]
    return write_jsonl(tmp_path / "raw.jsonl", rows)


def test_drops_invalid_and_copies_and_anonymizes(dirty: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(dirty.read_bytes()).hexdigest()
    out = tmp_path / "out" / "clean.jsonl"
    report = clean_file(dirty, out, ScanOptions())
    assert hashlib.sha256(dirty.read_bytes()).hexdigest() == before  # the input is untouched
    assert report.examples == 10 and report.kept == 6
    assert report.dropped == {"invalid_json": 1, "no_assistant": 1, "duplicate": 1, "near_duplicate": 1}
    rows = read_jsonl(out)
    assert len(rows) == 6
    user, assistant = rows[4]["messages"][1]["content"], rows[4]["messages"][2]["content"]
    assert user == "Please email me at [EMAIL] or call [PHONE] about my order."
    assert assistant == "Sure, we will contact [EMAIL] within a day; your card [CREDIT_CARD] was not charged."
    assert report.replacements == {"credit_card": 1, "email": 2, "phone": 1}
    assert rows[5]["messages"][2]["content"] == "I'm sorry, but I can't help with that."  # kept unless --drop refusal

    changes = orjson.loads(Path(report.report).read_bytes())
    assert Path(report.report) == out.with_name("clean.jsonl.report.json")
    by_line = {c["line"]: c for c in changes["changes"]}
    assert by_line[5] == {"line": 5, "row": 5, "action": "dropped", "reason": "near_duplicate",
                          "of": f"{dirty}:4", "similarity": by_line[5]["similarity"]}
    assert by_line[6]["reason"] == "duplicate" and by_line[6]["of"] == f"{dirty}:4"
    assert by_line[7]["reason"] == "invalid_json"
    assert by_line[8]["reason"] == "no_assistant"
    assert by_line[9] == {"line": 9, "row": 9, "action": "anonymized", "replacements": {"email": 2, "phone": 1, "credit_card": 1}}
    assert changes["summary"]["kept"] == 6


def test_optional_drops(dirty: Path, tmp_path: Path) -> None:
    report = clean_file(dirty, tmp_path / "c.jsonl", ScanOptions(pii=True), drop=frozenset({"refusal", "pii"}))
    assert report.dropped["refusal"] == 1 and report.dropped["pii"] == 1
    assert report.kept == 4 and report.anonymized_examples == 0


def test_no_anonymize_keeps_text(dirty: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    clean_file(dirty, out, ScanOptions(), anonymize=False)
    assert "jane.doe@gmail.com" in out.read_text()


def test_never_writes_over_the_input(dirty: Path) -> None:
    before = dirty.read_bytes()
    with pytest.raises(UsageError, match="is the input file"):
        clean_file(dirty, dirty, ScanOptions())
    with pytest.raises(UsageError, match="is the input file"):
        clean_file(dirty, dirty.with_name("x.jsonl"), ScanOptions(), report_path=dirty)
    assert dirty.read_bytes() == before


def test_json_array_and_csv_keep_their_format(tmp_path: Path) -> None:
    array = tmp_path / "data.json"
    array.write_bytes(orjson.dumps([{"instruction": "Say hi to jane.doe@gmail.com", "output": "Hi there, friend!"},
                                    {"instruction": "Say hi to jane.doe@gmail.com", "output": "Hi there, friend!"}]))
    clean_file(array, tmp_path / "out.json", ScanOptions())
    assert orjson.loads((tmp_path / "out.json").read_bytes()) == [{"instruction": "Say hi to [EMAIL]", "output": "Hi there, friend!"}]

    table = tmp_path / "data.csv"
    table.write_text("question,answer\nWhat is the phone of support?,Call +1-202-555-0173 anytime.\n"
                     "What is the phone of support?,Call +1-202-555-0173 anytime.\n", encoding="utf-8")
    clean_file(table, tmp_path / "out.csv", ScanOptions())
    assert (tmp_path / "out.csv").read_bytes() == b"question,answer\r\nWhat is the phone of support?,Call [PHONE] anytime.\r\n"
