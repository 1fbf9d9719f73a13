"""What the stand-in endpoint answers: scripted model replies, and a judge that follows a simple policy.

`ScriptedEndpoint(script)` is a responder and a fault policy for `FakeOpenAIServer`. The judge
reads the prompt the way the built-in templates (and the copies in judges/) lay it out: the
texts it compares or grades sit between `<<<` and `>>>` lines, the answers last (pairwise:
answer A then answer B). Which reply format it uses comes from what the prompt asks for:
`[[A]]`/`[[B]]`/`[[C]]` verdicts, a closed-QA `"verdict"` of yes/no, a pass/fail `"score"`, or
a numeric `"score"` (on the scale the prompt names, e.g. "integer from 1 to 10").
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from harness.testing.fake_server import Fault, Reply
from harness.testing.script import JudgeScript, ModelScript, StandInScript, compile_pattern

_BLOCK = re.compile(r"<<<\n(.*?)\n?>>>", re.DOTALL)
_SCALE = re.compile(r"integer from (\d+) to (\d+)")


def _text(content: Any) -> str:
    """A message's text, whether plain or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _messages(body: dict[str, Any], role: str) -> list[str]:
    return [_text(m.get("content")) for m in body.get("messages") or [] if m.get("role") == role]


class _Model:
    def __init__(self, name: str, script: ModelScript) -> None:
        self.name = name
        self.rules = [(compile_pattern(rule.when), rule.reply) for rule in script.replies]
        self.default = script.default

    def answer(self, body: dict[str, Any]) -> str:
        users = _messages(body, "user")
        question = users[-1] if users else ""
        for pattern, reply in self.rules:
            if pattern.search(question):
                return reply
        return self.default if self.default is not None else f"echo: {question}"


class _Judge:
    def __init__(self, script: JudgeScript) -> None:
        self.script = script
        self.patterns = [compile_pattern(text) for text in script.prefer]

    def merit(self, answer: str) -> int:
        return sum(1 for pattern in self.patterns if pattern.search(answer))

    def answer(self, body: dict[str, Any]) -> Reply:
        users = _messages(body, "user")
        prompt = users[0] if users else ""
        asked = "\n".join([*_messages(body, "system"), prompt])
        blocks = _BLOCK.findall(prompt)
        if "[[A]]" in asked and len(blocks) >= 2:
            return self._pairwise(blocks[-2], blocks[-1])
        answer = blocks[-1] if blocks else prompt
        merit, total = self.merit(answer), len(self.patterns)
        reason = f"The answer matches {merit} of the {total} preferred pattern{'s' if total != 1 else ''}."
        if '"verdict"' in asked:
            return Reply(json.dumps({"reason": reason, "verdict": "yes" if merit == total else "no"}))
        if '"pass"' in asked:
            return Reply(json.dumps({"reason": reason, "score": "pass" if merit == total else "fail"}))
        low, high = self.script.scores.low, self.script.scores.high
        scale = _SCALE.search(asked)
        if scale is not None:  # keep the grades on the prompt's own scale
            bottom, top = int(scale.group(1)), int(scale.group(2))
            low, high = min(max(low, bottom), top), min(max(high, bottom), top)
        score = low + round((high - low) * merit / total)
        return Reply(json.dumps({"reason": reason, "score": score}))

    def _pairwise(self, first: str, second: str) -> Reply:
        a, b = self.merit(first), self.merit(second)
        if a == b:
            verdict, text = "C", f"Both answers match {a} of the preferred patterns."
        elif a > b:
            verdict, text = "A", f"Answer A matches {a} of the preferred patterns, answer B {b}."
        else:
            verdict, text = "B", f"Answer B matches {b} of the preferred patterns, answer A {a}."
        # Token probabilities for the soft win rate: confident, not certain.
        others = [label for label in "ABC" if label != verdict]
        logprobs = {verdict: math.log(0.8), others[0]: math.log(0.1), others[1]: math.log(0.1)}
        return Reply(f"{text}\n[[{verdict}]]", logprobs=logprobs)


class ScriptedEndpoint:
    """Responder and fault policy of a `FakeOpenAIServer` playing the script's models and judge."""

    def __init__(self, script: StandInScript) -> None:
        self.script = script
        self.models = {name: _Model(name, entry) for name, entry in script.models.items()}
        self.judge = _Judge(script.judge) if script.judge is not None else None

    def __call__(self, body: dict[str, Any]) -> str | Reply:
        name = str(body.get("model"))
        if self.judge is not None and name == self.judge.script.model:
            return self.judge.answer(body)
        return self.models[name].answer(body)

    def faults(self, index: int, body: dict[str, Any]) -> Fault | None:
        """An unknown model gets the 404 a real endpoint sends, naming what the script serves."""
        name = str(body.get("model"))
        if name in self.models or (self.judge is not None and name == self.judge.script.model):
            return None
        served = ", ".join(self.script.served)
        return Fault(status=404, error_code="model_not_found",
                     message=f"The model '{name}' does not exist on this stand-in (it serves: {served})")
