"""Scripted models and judges on the local fake OpenAI-compatible server."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from harness.testing import FakeOpenAIServer, Reply

# Six cases. The candidate's answer is GOOD on q1-q4, the baseline's on q5, both on q6; a
# judge preferring GOOD answers therefore gives W/L/T = 4/1/1 and a win rate of 4.5/6.
SUITE = """\
name: judged
cases:
  - {id: q1, input: "Question 1", tags: [alpha]}
  - {id: q2, input: "Question 2", tags: [alpha]}
  - {id: q3, input: "Question 3", tags: [alpha]}
  - {id: q4, input: "Question 4", tags: [beta]}
  - {id: q5, input: "Question 5", tags: [beta]}
  - {id: q6, input: "Question 6", tags: [beta]}
"""

CANDIDATE = {1: "GOOD one", 2: "GOOD two", 3: "GOOD three", 4: "GOOD four", 5: "poor five", 6: "GOOD six, candidate"}
BASELINE = {1: "poor one", 2: "poor two", 3: "poor three", 4: "poor four", 5: "GOOD five", 6: "GOOD six, baseline"}


def question_number(text: str) -> int:
    match = re.search(r"Question (\d+)", text)
    assert match is not None, text
    return int(match.group(1))


def judge_prompt(body: dict[str, Any]) -> str:
    """The first user message of a judge request (later ones are re-asks)."""
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def slot_answers(body: dict[str, Any]) -> tuple[str, str]:
    prompt = judge_prompt(body)
    found = re.search(r"Answer A:\n<<<\n(.*?)\n>>>\n\nAnswer B:\n<<<\n(.*?)\n>>>", prompt, re.DOTALL)
    assert found is not None, prompt
    return found.group(1), found.group(2)


def prefers_good(body: dict[str, Any]) -> str | Reply:
    a, b = slot_answers(body)
    if ("GOOD" in a) == ("GOOD" in b):
        return "Both are equally good. [[C]]"
    return "A is better. [[A]]" if "GOOD" in a else "B is better. [[B]]"


Judge = Callable[[dict[str, Any]], "str | Reply"]


class Scripted:
    """Answers as `cand` and `base` from the tables above; anything else is the judge."""

    def __init__(self, judge: Judge = prefers_good) -> None:
        self.judge = judge
        self.candidate = dict(CANDIDATE)
        self.baseline = dict(BASELINE)

    def __call__(self, body: dict[str, Any]) -> str | Reply:
        model = body["model"]
        if model in ("cand", "base"):
            number = question_number(body["messages"][-1]["content"])
            return (self.candidate if model == "cand" else self.baseline)[number]
        return self.judge(body)


@pytest.fixture
def scripted(fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scripted]:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    script = Scripted()
    fake_openai.responder = script
    yield script


def judge_requests(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [body for body in server.requests if body["model"] not in ("cand", "base")]


def write_suite(directory: Path, text: str = SUITE) -> Path:
    path = directory / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_judged(suite: Path, **overrides: Any) -> RunOutcome:
    options: dict[str, Any] = {
        "models": ["openai:cand"],
        "baseline": "openai:base",
        "judge": "openai:judge",
        "output_dir": suite.parent / "reports",
        "progress": False,
    }
    options.update(overrides)
    return run_suite(suite, RunOptions(**options), Console(file=io.StringIO()))
