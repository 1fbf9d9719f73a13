"""A judged run made through the real pipeline against the local fake server: a candidate, a
baseline and a judge, with one answer that is an XSS payload. Used by the report tests."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from harness.testing import FakeOpenAIServer

XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
TAGS = ("account", "billing", "data")


def suite_text(base_url: str, cases: int, gates: list[str] | None = None, judged: bool = True) -> str:
    lines = [
        "name: demo",
        "description: Support answers, fine-tune vs base",
        "models:",
        f"  tuned: {{spec: openai:tuned, base_url: '{base_url}'}}",
        f"  base: {{spec: openai:base, base_url: '{base_url}'}}",
        f"  judge: {{spec: openai:judge, base_url: '{base_url}'}}",
        *(["baseline: base", "judge: {model: judge, logprobs: 0}"] if judged else []),
        "defaults: {required_patterns: [step], rubric: Gives numbered steps.}",
        "cases:",
    ]
    for i in range(cases):
        tag = TAGS[i % len(TAGS)]
        lines.append(f"  - {{id: case-{i:04d}, input: 'Question {i} about {tag}?', reference: 'step {i}', tags: [{tag}]}}")
    if gates:
        lines.append("gates:")
        lines.extend(f"  - '{gate}'" for gate in gates)
    return "\n".join(lines) + "\n"


def question(text: str) -> int:
    found = re.search(r"Question (\d+)", text)
    assert found is not None, text
    return int(found.group(1))


@dataclass
class World:
    """Scripted answers: the tuned model says `step` except on case 6 (`tuned_fails`), the base model
    only on even cases; case 1's tuned answer is an XSS payload. The judge prefers answers
    with `step` and grades them 8 (else 3)."""

    xss_case: int = 1
    invalid_judge: set[int] = field(default_factory=set)
    tuned_fails: set[int] = field(default_factory=lambda: {6})  # cases where the tuned answer lacks `step`

    def tuned(self, number: int) -> str:
        if number == self.xss_case:
            return f"step {number}: {XSS}"
        return f"Question {number}: nope" if number in self.tuned_fails else f"1. First step for {number}.\n2. Done."

    def base(self, number: int) -> str:
        return f"1. A step for {number}." if number % 2 == 0 else f"I cannot help with {number}."

    def judge(self, body: dict[str, Any]) -> str:
        prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        number = question(prompt)
        if number in self.invalid_judge:
            return "no idea"
        if "Answer A:" in prompt:
            found = re.search(r"Answer A:\n<<<\n(.*?)\n>>>\n\nAnswer B:\n<<<\n(.*?)\n>>>", prompt, re.DOTALL)
            assert found is not None
            a, b = ("step" in found.group(1)), ("step" in found.group(2))
            if a == b:
                return "Both are alike. [[C]]"
            return "A names the steps. [[A]]" if a else "B names the steps. [[B]]"
        answer = prompt.split("The answer to grade:")[1]
        score = 8 if "step" in answer else 3
        return f'{{"reason": "Graded {number}: <b>bold</b> claim", "score": {score}}}'

    def __call__(self, body: dict[str, Any]) -> str:
        model = body["model"]
        if model == "tuned":
            return self.tuned(question(body["messages"][-1]["content"]))
        if model == "base":
            return self.base(question(body["messages"][-1]["content"]))
        return self.judge(body)


def make_run(directory: Path, server: FakeOpenAIServer, cases: int = 12, gates: list[str] | None = None,
             suite_gates: list[str] | None = None, judged: bool = True, **overrides: Any) -> RunOutcome:
    directory.mkdir(parents=True, exist_ok=True)
    suite = directory / "suite.yaml"
    suite.write_text(suite_text(server.base_url, cases, suite_gates, judged), encoding="utf-8")
    options: dict[str, Any] = {"output_dir": directory / "reports", "progress": False, "use_cache": False,
                               "gates": gates or [], "max_retries": 0}
    options.update(overrides)
    return run_suite(suite, RunOptions(**options), Console(file=io.StringIO()))


@pytest.fixture
def world(fake_openai: FakeOpenAIServer) -> Iterator[World]:
    script = World()
    fake_openai.responder = script
    yield script
