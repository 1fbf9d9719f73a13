from __future__ import annotations

from pathlib import Path

from harness.data.check import check_files
from harness.data.scan import ScanOptions
from harness.data.tokens import ApproximateCounter
from harness.data.validate import Rules, chat_turns, content_problems, record_turns
from harness.pricing import packaged_price_table
from tests.data.conftest import chat, filler, write_jsonl


def kinds_by_line(report) -> dict[int, set[str]]:  # type: ignore[no-untyped-def]
    found: dict[int, set[str]] = {}
    for problem in report.problems:
        found.setdefault(problem.line, set()).add(problem.kind)
    return found


def check(paths: list[Path], **options: object):  # type: ignore[no-untyped-def]
    return check_files(paths, ScanOptions(**options), ApproximateCounter(), packaged_price_table())  # type: ignore[arg-type]


def test_every_structural_and_quality_problem_is_reported_on_its_line(tmp_path: Path) -> None:
    rows = [
        *filler(10),                                                              # lines 1-10: clean
        '{"messages": [',                                                         # 11 invalid JSON
        {"prompt": "no messages here"},                                           # 12
        {"messages": []},                                                         # 13
        {"messages": [{"role": "user", "content": "Where is my parcel today?"},
                      {"role": "bot", "content": "It left the depot this morning."}]},  # 14 unknown role, no assistant
        chat("Where is my parcel today?", None),                                  # 15 no assistant
        {"messages": [{"role": "user", "content": "Where is my parcel today?"},
                      {"role": "assistant", "content": "It left the depot this morning."},
                      {"role": "user", "content": "And when will it arrive?"}]},  # 16 ends with user
        chat("Where is my parcel today?", "   "),                                 # 17 empty assistant
        chat("Hi", "Hello! How can I help you with your TechCorp order today?"),  # 18 short user turn
        chat("Please write a rude reply to my neighbour.", "I'm sorry, but I can't help with that."),  # 19 refusal
        chat("Tell me about the warranty terms please.", "As an AI language model, I have no opinion on that."),  # 20
        ["not", "an", "object"],                                                  # 21
        {"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "Forty two is the answer."}]},  # 22
        {"messages": [{"content": "who am I"}, {"role": "assistant", "content": "A message without a role."}]},  # 23
        {"messages": [{"role": "user", "content": "Rate this answer for me."},
                      {"role": "assistant", "content": "It is a fine answer overall.", "weight": 2}]},  # 24
    ]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    report = check([path])
    found = kinds_by_line(report)
    assert all(line not in found for line in range(1, 11))
    assert found[11] == {"invalid_json"}
    assert found[12] == {"missing_messages"}
    assert found[13] == {"missing_messages"}
    assert found[14] == {"unknown_role", "no_assistant"}
    assert found[15] == {"no_assistant"}
    assert found[16] == {"not_ending_with_assistant"}
    assert found[17] == {"empty_content"}
    assert found[18] == {"short_content"}
    assert found[19] == {"refusal"}
    assert found[20] == {"refusal"}
    assert found[21] == {"invalid_record"}
    assert found[22] == {"invalid_record"}
    assert found[23] == {"invalid_record"}
    assert found[24] == {"invalid_record"}
    assert report.examples == 24
    assert report.valid == 10 + 3  # the clean ones plus short/refusal examples, which are usable
    assert report.problems_by_kind["no_assistant"] == 2


def test_counts_are_of_examples_and_every_problem_is_listed(tmp_path: Path) -> None:
    rows = [*filler(10), {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": " "}]}]
    report = check([write_jsonl(tmp_path / "t.jsonl", rows)])
    assert report.problems_by_kind == {"empty_content": 1}
    assert [p.message for p in report.problems] == ["messages[0] (user) has empty content",
                                                    "messages[1] (assistant) has empty content"]


def test_reading_goes_on_after_bad_lines(tmp_path: Path) -> None:
    rows = ["{oops", *filler(3), "also broken", *filler(12)[3:]]
    report = check([write_jsonl(tmp_path / "t.jsonl", rows)])
    assert [p.line for p in report.problems if p.kind == "invalid_json"] == [1, 5]
    assert report.examples == 14


def test_too_long_uses_the_token_limit(tmp_path: Path) -> None:
    rows = [*filler(10), chat("Summarise this please: " + "word " * 400, "A summary of the long text above.")]
    report = check_files([write_jsonl(tmp_path / "t.jsonl", rows)], ScanOptions(rules=Rules.build(max_tokens=300)),
                         ApproximateCounter(), packaged_price_table())
    assert [(p.line, p.kind) for p in report.problems] == [(11, "too_long")]
    assert report.tokens.over_limit == 1


def test_too_few_examples(tmp_path: Path) -> None:
    report = check([write_jsonl(tmp_path / "t.jsonl", filler(3))])
    assert report.problems_by_kind == {"too_few_examples": 1}


def test_thresholds_and_patterns_are_configurable() -> None:
    turns = [("user", "Reset it"), ("assistant", "Nope, not doing that today.")]
    assert [k for k, _ in content_problems(turns, Rules.build())] == ["short_content"]
    assert content_problems(turns, Rules.build(min_chars=5, refusal_patterns=[])) == []
    assert [k for k, _ in content_problems(turns, Rules.build(min_chars=0, refusal_patterns=["^nope"]))] == ["refusal"]


def test_refusal_defaults_do_not_flag_helpful_answers() -> None:
    helpful = [
        "I cannot stress enough: back up first. Then open Settings and choose Restore.",
        "You cannot change the username, but you can change the display name under Profile.",
        "Sorry for the wait! Here are the steps: 1. Open Settings.",
    ]
    found = [content_problems([("assistant", text)], Rules.build(min_chars=0)) for text in helpful]
    # An answer opening with "I cannot" is flagged, as the seeds' checklist does; the others are not.
    assert [k for k, _ in found[0]] == ["refusal"]
    assert found[1] == [] and found[2] == []


def test_tool_calls_without_content_are_not_empty() -> None:
    record = {"messages": [
        {"role": "user", "content": "What is the weather in Paris right now?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
                                                               "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "18 degrees and sunny"},
        {"role": "assistant", "content": "It is 18 degrees and sunny in Paris."},
    ]}
    turns, found = chat_turns(record)
    assert found == []
    assert [r for r, _ in turns] == ["user", "assistant", "tool", "assistant"]


def test_alpaca_records_need_an_output(tmp_path: Path) -> None:
    turns, found = record_turns({"instruction": "Translate to French", "input": "Good morning"}, "alpaca")
    assert turns == [("user", "Translate to French\n\nGood morning")]
    assert [k for k, _ in found] == ["no_assistant"]
    turns, found = record_turns({"instruction": "Translate to French", "output": "Bonjour"}, "alpaca")
    assert found == [] and turns[-1] == ("assistant", "Bonjour")
    # Eval formats need no answer.
    assert record_turns({"input": "What is 2+2?"}, "evals")[1] == []


def test_csv_files_are_checked_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text('question,answer\n"What is the capital of France?",Paris\n"",nothing\nonly one field\n', encoding="utf-8")
    report = check([path])
    assert report.files == {str(path): "csv"}
    lines = {(p.line, p.kind) for p in report.problems}
    assert (3, "invalid_record") in lines  # empty input column
    assert (4, "invalid_record") in lines  # wrong number of fields
