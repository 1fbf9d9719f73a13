"""Reading judge replies: pairwise verdict tags, JSON grades, and the soft preference from logprobs.

Every parser returns a `Parsed` with either a value or the reason the reply is unusable; an
unusable reply is re-asked and finally recorded as invalid, never scored.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.judging.templates import Scale, VerdictFormat

Slot = Literal["first", "second", "tie"]

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TOKEN_DECORATION = " \t\r\n[](){}*\"'`.:"


@dataclass(frozen=True)
class Parsed:
    value: Any = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class PairwiseVerdict:
    label: str  # as written by the judge, e.g. "A"
    slot: Slot
    first_share: float | None  # P(first) / (P(first) + P(second)) at the verdict token, when logprobs came back


def parse_verdict(reply: str, fmt: VerdictFormat) -> tuple[str, Slot] | None:
    """The last verdict tag in the reply as (label, slot); None when there is none.

    The last one counts because the template asks for the verdict at the end, after the
    judge may have quoted the tags while explaining."""
    matches = re.findall(fmt.pattern, reply)
    if not matches:
        return None
    label = str(matches[-1])
    slots: dict[str, Slot] = {fmt.first: "first", fmt.second: "second", fmt.tie: "tie"}
    slot = slots.get(label)
    return (label, slot) if slot is not None else None


def _bare(token: str) -> str:
    return token.strip(_TOKEN_DECORATION)


def first_slot_share(logprobs: list[dict[str, float]] | None, label: str, fmt: VerdictFormat) -> float | None:
    """P(first label) / (P(first label) + P(second label)) at the token that carries the verdict.

    The verdict token is the last generated token whose most likely alternative is the parsed
    label (judging runs at temperature 0, so the chosen token is the most likely one), with
    brackets and spaces stripped so `[[A`, ` A` and `A` all count. Alternatives outside the
    returned top-k contribute nothing. None when the token or both labels are missing.
    """
    if not logprobs:
        return None
    for alternatives in reversed(logprobs):
        if not alternatives:
            continue
        chosen = max(alternatives, key=lambda token: alternatives[token])
        if _bare(chosen) != label:
            continue
        first = sum(math.exp(lp) for token, lp in alternatives.items() if _bare(token) == fmt.first)
        second = sum(math.exp(lp) for token, lp in alternatives.items() if _bare(token) == fmt.second)
        total = first + second
        return first / total if total > 0 else None
    return None


def parse_pairwise(reply: str, logprobs: list[dict[str, float]] | None, fmt: VerdictFormat) -> Parsed:
    found = parse_verdict(reply, fmt)
    if found is None:
        labels = f"{fmt.first}/{fmt.second}/{fmt.tie}"
        return Parsed(problem=f"no verdict ({labels}) matching {fmt.pattern!r} in the reply")
    label, slot = found
    return Parsed(PairwiseVerdict(label, slot, first_slot_share(logprobs, label, fmt)))


def json_object(reply: str) -> dict[str, Any] | None:
    """The last JSON object in a reply, tolerating code fences and text around it."""
    candidates = [*_FENCE.findall(reply), reply]
    for text in candidates:
        stripped = text.strip()
        try:
            value = json.loads(stripped)
        except ValueError:
            pass
        else:
            if isinstance(value, dict):
                return value
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    position = reply.find("{")
    while position != -1:
        try:
            value, end = decoder.raw_decode(reply, position)
        except ValueError:
            position = reply.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found = value
        position = reply.find("{", end)
    return found


@dataclass(frozen=True)
class Grade:
    score: float  # the rubric score, or 1/0 for pass/fail and yes/no
    label: str | None  # "pass"/"fail", "yes"/"no"; None for numeric scores
    reason: str


def _reason(data: dict[str, Any]) -> str | None:
    reason = data.get("reason")
    return reason if isinstance(reason, str) else None


def parse_rubric(reply: str, scale: Scale | Literal["pass_fail"]) -> Parsed:
    data = json_object(reply)
    if data is None:
        return Parsed(problem="the reply holds no JSON object")
    reason = _reason(data)
    if reason is None:
        return Parsed(problem='the JSON object has no "reason" string')
    if "score" not in data:
        return Parsed(problem='the JSON object has no "score"')
    raw = data["score"]
    if scale == "pass_fail":
        if isinstance(raw, bool):
            return Parsed(Grade(1.0 if raw else 0.0, "pass" if raw else "fail", reason))
        word = str(raw).strip().lower()
        if word in ("pass", "fail"):
            return Parsed(Grade(1.0 if word == "pass" else 0.0, word, reason))
        return Parsed(problem=f'"score" must be "pass" or "fail", not {raw!r}')
    if isinstance(raw, bool):
        return Parsed(problem=f'"score" must be a number, not {raw!r}')
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return Parsed(problem=f'"score" must be a number, not {raw!r}')
    if not math.isfinite(number) or number != int(number) or not scale.min <= number <= scale.max:
        return Parsed(problem=f'"score" must be an integer from {scale.min} to {scale.max}, not {raw!r}')
    return Parsed(Grade(number, None, reason))


def parse_closed_qa(reply: str) -> Parsed:
    data = json_object(reply)
    if data is None:
        return Parsed(problem="the reply holds no JSON object")
    reason = _reason(data)
    if reason is None:
        return Parsed(problem='the JSON object has no "reason" string')
    verdict = str(data.get("verdict", "")).strip().lower()
    if verdict not in ("yes", "no"):
        return Parsed(problem=f'"verdict" must be "yes" or "no", not {data.get("verdict")!r}')
    return Parsed(Grade(1.0 if verdict == "yes" else 0.0, verdict, reason))


def parse_label(reply: str, labels: Sequence[str], passing: Sequence[str]) -> Parsed:
    """A label judge's reply: {"reason": ..., "label": ...} with one of `labels` (case and spaces ignored).

    The grade's score is 1 for a passing label and 0 otherwise."""
    data = json_object(reply)
    if data is None:
        return Parsed(problem="the reply holds no JSON object")
    reason = _reason(data)
    if reason is None:
        return Parsed(problem='the JSON object has no "reason" string')
    raw = data.get("label")
    by_key = {_label_key(label): label for label in labels}
    label = by_key.get(_label_key(raw)) if isinstance(raw, str) else None
    if label is None:
        return Parsed(problem=f'"label" must be one of {", ".join(labels)}, not {raw!r}')
    passed = _label_key(label) in {_label_key(p) for p in passing}
    return Parsed(Grade(1.0 if passed else 0.0, label, reason))


def _label_key(label: str) -> str:
    return " ".join(label.split()).lower()
