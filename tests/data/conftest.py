"""Helpers for the data tests: crafted chat files and a CLI runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from harness.cli import main

# A near copy of LONG_ANSWER with one word changed: 3 of its 54 word trigrams differ (Jaccard 0.89).
LONG_ANSWER = (
    "To reset your password open the TechCorp app and tap Settings then Account then Security. Choose Reset "
    "Password and enter the email address you registered with. We send a link that stays valid for twenty four "
    "hours; open it on the same phone, pick a new password of at least twelve characters and sign in again."
)
NEAR_ANSWER = LONG_ANSWER.replace("stays valid", "remains valid")
OTHER_ANSWER = (
    "Invoices are under Billing in the web dashboard. Pick the month you need, press Download and a PDF copy "
    "arrives in your browser; administrators can also have every invoice emailed to the finance team each month."
)


def chat(user: str, assistant: str | None, system: str | None = "You are a TechCorp support agent.") -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    if assistant is not None:
        messages.append({"role": "assistant", "content": assistant})
    return {"messages": messages}


def write_jsonl(path: Path, rows: Sequence[Any]) -> Path:
    """Rows are dicts (dumped as JSON) or raw strings (written as they are)."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else orjson.dumps(row).decode()) + "\n")
    return path


def filler(n: int) -> list[dict[str, Any]]:
    """`n` distinct, clean chat examples."""
    topics = ["router", "printer", "watch", "laptop", "camera", "earbuds", "thermostat", "drive", "tablet", "speaker",
              "monitor", "keyboard"]
    actions = ["update the firmware of", "pair a new phone with", "factory reset", "register the warranty of",
               "change the language of", "clean the sensor of"]
    rows = []
    for i in range(n):
        topic, action = topics[i % len(topics)], actions[(i // len(topics)) % len(actions)]
        rows.append(chat(
            f"How do I {action} my {topic} model {i}?",
            f"For the {topic} model {i}, open the companion app, choose Devices, select the {topic} and follow "
            f"the steps under Maintenance to {action.split(' ')[0]} it; it takes about {i % 7 + 2} minutes.",
        ))
    return rows


CliResult = tuple[int, str, str]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `harness ARGS...` in-process; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        return int(exit_info.value.code or 0), captured.out, captured.err

    return run
