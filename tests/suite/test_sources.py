from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.suite.loader import load_suite

Write = Callable[[str, str], Path]


def jsonl(rows: list[object]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def suite_with(write: Write, source: str) -> Path:
    return write("suite.yaml", f"name: s\nsources:\n  - {source}\n")


def test_openai_chat_last_assistant_turn_is_the_reference(write: Write) -> None:
    write("data/train.jsonl", jsonl([
        {"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Reset password?"},
            {"role": "assistant", "content": "Click Forgot Password."},
        ]},
        {"messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Export data?"},
            {"role": "assistant", "content": "Settings > Data."},
        ]},
        {"messages": [{"role": "user", "content": "No answer yet"}]},
    ]))
    suite = load_suite(suite_with(write, "{path: data/train.jsonl}"))
    a, b, c = suite.cases
    assert a.id == "train-1" and b.id == "train-2" and c.id == "train-3"
    assert a.messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Reset password?"}]
    assert a.references == ["Click Forgot Password."]
    assert [m["role"] for m in b.messages] == ["user", "assistant", "user"]
    assert b.references == ["Settings > Data."]
    assert c.references == []
    assert a.origin.endswith("train.jsonl:1") and a.source.endswith("data/train.jsonl")


def test_alpaca_json_array_and_jsonl(write: Write) -> None:
    rows = [
        {"instruction": "Summarize.", "input": "Long text", "output": "Short"},
        {"instruction": "Say hi.", "input": "", "output": "Hi"},
    ]
    write("a.json", json.dumps(rows))
    write("b.jsonl", jsonl(rows))
    for name in ("a.json", "b.jsonl"):
        suite = load_suite(suite_with(write, f"{{path: {name}, tags: [alpaca]}}"))
        first, second = suite.cases
        assert first.input_text == "Summarize.\n\nLong text"
        assert first.references == ["Short"]
        assert second.input_text == "Say hi."
        assert first.tags == ["alpaca"]


def test_evals_samples_with_ideal_list_and_chat_input(write: Write) -> None:
    write("e.jsonl", jsonl([
        {"input": [{"role": "system", "content": "Answer."}, {"role": "user", "content": "2+2?"}], "ideal": ["4", "four"]},
        {"input": "Capital of France?", "ideal": "Paris"},
    ]))
    suite = load_suite(suite_with(write, "{path: e.jsonl}"))
    first, second = suite.cases
    assert first.messages[0]["role"] == "system" and first.input_text == "2+2?"
    assert first.references == ["4", "four"]
    assert second.references == ["Paris"]


def test_csv_columns_tags_ids_and_vars(write: Write) -> None:
    write("c.csv", "id,question,answer,tags,context\nq1,What is 1+1?,2,math;easy,ctx1\nq2,\"Quoted, comma?\",yes,,ctx2\n")
    suite = load_suite(write("suite.yaml",
        "system: 'Context: {{ context }}'\nsources:\n  - path: c.csv\n"))
    first, second = suite.cases
    assert (first.id, first.input_text, first.references, first.tags) == ("q1", "What is 1+1?", ["2"], ["math", "easy"])
    assert first.messages[0] == {"role": "system", "content": "Context: ctx1"}
    assert second.input_text == "Quoted, comma?" and second.tags == []


def test_mapping_for_generic_jsonl(write: Write) -> None:
    write("g.jsonl", jsonl([{"qid": 7, "q": "Why?", "a": "Because", "ctx": "c", "lvl": "hard"}]))
    suite = load_suite(suite_with(write,
        "{path: g.jsonl, format: jsonl, mapping: {id: qid, input: q, reference: a, vars.ctx: ctx, metadata.level: lvl}}"))
    (case,) = suite.cases
    assert (case.id, case.input_text, case.references, case.metadata) == ("7", "Why?", ["Because"], {"level": "hard"})


def test_limit_and_id_prefix(write: Write) -> None:
    write("e.jsonl", jsonl([{"input": f"q{i}", "ideal": "a"} for i in range(10)]))
    suite = load_suite(suite_with(write, "{path: e.jsonl, limit: 3, id_prefix: ev}"))
    assert [c.id for c in suite.cases] == ["ev-1", "ev-2", "ev-3"]


def test_defaults_apply_to_source_cases(write: Write) -> None:
    write("e.jsonl", jsonl([{"input": "q", "ideal": "a"}]))
    suite = load_suite(write("suite.yaml", "defaults: {tags: [d], required_patterns: [x]}\nsources: [{path: e.jsonl}]\n"))
    assert suite.cases[0].tags == ["d"] and suite.cases[0].required_patterns[0].pattern == "x"


@pytest.mark.parametrize(
    ("name", "content", "source", "expected"),
    [
        ("bad.jsonl", '{"input": "a", "ideal": "b"}\n{not json}\n', "{path: bad.jsonl}", "bad.jsonl:2: invalid JSON"),
        ("bad.jsonl", '{"input": "a", "ideal": "b"}\n{"ideal": "c"}\n', "{path: bad.jsonl, format: evals}", "bad.jsonl:2: missing `input`"),
        ("bad.jsonl", '{"messages": [{"role": "wizard", "content": "x"}]}\n', "{path: bad.jsonl}",
         "bad.jsonl:1: `messages[0]` has unsupported role 'wizard'"),
        ("bad.csv", "input,reference\na,b\nc,d,e\n", "{path: bad.csv}", "bad.csv:3: row has 3 fields but the header has 2"),
        ("bad.csv", "question_text,answer\na,b\n", "{path: bad.csv}", "bad.csv:2: no input column"),
        ("odd.jsonl", '{"foo": 1}\n', "{path: odd.jsonl}", "suite.yaml:3:5: cannot detect the format of 'odd.jsonl'"),
        ("empty.jsonl", "\n\n", "{path: empty.jsonl}", "empty.jsonl: source has no records"),
        ("dup.jsonl", '{"id": "x", "input": "a"}\n{"id": "x", "input": "b"}\n', "{path: dup.jsonl}", "suite.yaml: duplicate case id 'x'"),
    ],
)
def test_source_problems_name_the_file_and_line(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str, source: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(name, content)
    suite_with(write, source)
    with pytest.raises(SuiteError) as err:
        load_suite("suite.yaml")
    assert any(line.startswith(expected) for line in err.value.lines()), err.value.lines()


def test_unknown_mapping_target_is_located(write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write("e.jsonl", jsonl([{"input": "q"}]))
    suite_with(write, "{path: e.jsonl, mapping: {inptu: q}}")
    with pytest.raises(SuiteError) as err:
        load_suite("suite.yaml")
    assert err.value.lines()[0].startswith("suite.yaml:3:")
    assert "unknown mapping target 'inptu'" in err.value.lines()[0]
