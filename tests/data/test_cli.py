from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson

from tests.data.conftest import LONG_ANSWER, CliResult, chat, filler, write_jsonl
from tests.data.test_contamination import make_suite, make_training

Run = Callable[..., CliResult]


def test_check_clean_file_exits_0_and_prints_the_summary(tmp_path: Path, run_cli: Run) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", filler(12))
    code, out, err = run_cli("data", "check", path, "--tokenizer", "approx", "--epochs", "2")
    assert code == 0, err
    assert "12 examples in" in out and "openai_chat" in out
    assert "tokens (approximate" in out
    assert "estimated training cost: $" in out and "x 2 epochs" in out


def test_check_problems_exit_1_with_lines(tmp_path: Path, run_cli: Run) -> None:
    rows = [*filler(10), "{bad", chat("Where is my parcel?", None), chat("How to reset?", LONG_ANSWER),
            chat("How to reset?", LONG_ANSWER)]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    code, out, err = run_cli("data", "check", path)
    assert code == 1
    assert f"{path}:11: invalid_json: " in out
    assert f"{path}:12: no_assistant: the conversation has no assistant turn" in out
    assert f"{path}:14: duplicate: duplicate of {path}:13" in out
    assert err.strip() == "data check failed: 3 of 14 examples have problems (--max-problems 0)"
    # The gate's threshold: 3 of 14 is under 25 %.
    assert run_cli("data", "check", path, "--max-problems", "25%")[0] == 0
    assert run_cli("data", "check", path, "--max-problems", "3")[0] == 0
    assert run_cli("data", "check", path, "--max-problems", "0.1")[0] == 1
    assert run_cli("data", "check", path, "--ignore", "invalid_json", "--ignore", "no_assistant",
                   "--ignore", "duplicate")[0] == 0


def test_too_few_examples_fail_the_gate_unless_ignored(tmp_path: Path, run_cli: Run) -> None:
    path = write_jsonl(tmp_path / "tiny.jsonl", filler(4))
    code, _, err = run_cli("data", "check", path)
    assert code == 1 and err.strip() == "data check failed: only 4 examples"
    assert run_cli("data", "check", path, "--ignore", "too_few_examples")[0] == 0


def test_check_json_output(tmp_path: Path, run_cli: Run) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", [*filler(10), chat("Hi", "Hello! What can I do for you today?")])
    code, out, _ = run_cli("data", "check", path, "--json", "--model", "ft:gpt-4o-mini-2024-07-18:acme:x:1")
    report = orjson.loads(out)
    assert code == 1
    assert report["problems_by_kind"] == {"short_content": 1}
    assert report["problems"][0]["line"] == 11
    assert report["cost"]["priced_as"] == "gpt-4o-mini"


def test_usage_errors_are_one_line_exit_2(tmp_path: Path, run_cli: Run) -> None:
    path = write_jsonl(tmp_path / "train.jsonl", filler(12))
    cases = [
        (("data", "check", tmp_path / "missing.jsonl"), f"error: data file '{tmp_path / 'missing.jsonl'}' not found"),
        (("data", "check", tmp_path), f"error: '{tmp_path}' is a directory, not a data file"),
        (("data", "check", path, "--epochs", "zero"), "error: --epochs takes a positive number or auto, not 'zero'"),
        (("data", "check", path, "--max-problems", "lots"), "error: --max-problems takes a count (10), a fraction (0.05) "
                                                              "or a percentage (5%), not 'lots'"),
        (("data", "check", path, "--refusal-pattern", "(["), None),
        (("data", "check", path, "--prices", tmp_path / "p.yaml"), f"error: price file '{tmp_path / 'p.yaml'}' not found"),
        (("data", "check", path, "--ignore", "nonsense"), None),
        (("data", "split", path, "--train", "0.9"), "error: --train, --val and --test must add up to 1, got 1.1"),
        (("data", "clean", path, "-o", path), None),
        (("data", "contamination", "--suite", tmp_path / "none.yaml"), None),
    ]
    for args, expected in cases:
        code, _, err = run_cli(*args)
        assert code == 2, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 or lines[0].startswith("Usage:"), (args, err)
        if expected is not None:
            assert lines[0] == expected, (args, err)


def test_clean_and_split_commands(tmp_path: Path, run_cli: Run) -> None:
    rows = [*filler(20), chat("Mail me at jane.doe@gmail.com please, thanks!", "Done, we wrote to you."), "{bad"]
    path = write_jsonl(tmp_path / "raw.jsonl", rows)
    code, out, err = run_cli("data", "clean", path, "-o", tmp_path / "clean.jsonl")
    assert code == 0, err
    assert "kept 21 of 22 examples" in out and "dropped 1: 1 invalid_json" in out and "1 email" in out
    assert "[EMAIL]" in (tmp_path / "clean.jsonl").read_text()
    code, out, err = run_cli("data", "split", tmp_path / "clean.jsonl", "--seed", "3", "-o", tmp_path / "parts",
                             "--train", "0.5", "--val", "0.25", "--test", "0.25")
    assert code == 0, err
    sizes = {name: len((tmp_path / "parts" / f"clean.{name}.jsonl").read_text().splitlines())
             for name in ("train", "val", "test")}
    assert sum(sizes.values()) == 21 and sizes["train"] in (10, 11)
    # Unreadable lines stop a split: one line per problem, exit 2.
    code, _, err = run_cli("data", "split", path)
    assert code == 2 and f"{path}:22: invalid_json" in err


def test_contamination_command(tmp_path: Path, run_cli: Run) -> None:
    suite = make_suite(tmp_path)
    train = make_training(tmp_path)
    code, out, err = run_cli("data", "contamination", "--suite", suite, "--train", train)
    assert code == 1
    assert "case 'planted-exact' input exact match" in out
    assert "5 of 6 cases of support appear in the training data" in out
    assert err.strip().startswith("contamination: 5 of 6 cases appear in the training data")
    assert run_cli("data", "contamination", "--suite", suite, "--train", train, "--max-contaminated", "5")[0] == 0
    clean = write_jsonl(tmp_path / "clean.jsonl", filler(10))
    assert run_cli("data", "contamination", "--suite", suite, "--train", clean)[0] == 0
    # Without --train: the suite's training_data, and a clear error when it has none.
    code, _, err = run_cli("data", "contamination", "--suite", suite)
    assert code == 2 and "no training data" in err
    named = make_suite(tmp_path, extra="training_data: train.jsonl\n")
    assert run_cli("data", "contamination", "--suite", named, "--json")[0] == 1
