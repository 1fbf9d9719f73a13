"""Helpers for the data tests: crafted chat files and a CLI runner."""

from __future__ import annotations

import random
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


_VOCABULARY = ["account", "billing", "router", "printer", "watch", "laptop", "camera", "earbuds", "thermostat", "drive", "tablet", "speaker", "monitor", "keyboard", "firmware", "update", "pair", "phone", "reset", "warranty", "language", "sensor", "battery", "screen", "cable", "charger", "invoice", "refund", "order", "delivery", "parcel", "address", "password", "login", "security", "profile", "settings", "backup", "restore", "install", "remove", "connect", "network", "signal", "volume", "display", "colour", "brightness", "storage", "memory", "folder", "upload", "download", "share", "export", "import", "schedule", "reminder", "calendar", "contact", "message", "notification", "subscription", "plan", "upgrade", "discount", "coupon", "receipt"]


def filler(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` clean chat examples with unrelated wording (random words, so no two are near copies)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        question = " ".join(rng.choices(_VOCABULARY, k=8))
        answer = " ".join(rng.choices(_VOCABULARY, k=30))
        rows.append(chat(f"Question {i}: how do I handle {question}?", f"Answer {i}: {answer}."))
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
