"""Per-example validation: structure of chat fine-tuning records and content quality.

Unlike the suite importer, which stops at a record's first problem, these functions
collect every problem of an example so `harness data check` can list them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.suite.sources import record_to_case

Turn = tuple[str, str]  # (role, content)
Found = list[tuple[str, str]]  # (kind, message)

# Roles the OpenAI chat fine-tuning format accepts.
KNOWN_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# Formats whose records are training examples and so need an answer to learn from.
TRAINING_FORMATS = ("openai_chat", "alpaca")

# An assistant turn that opens by declining, or talks about being an AI. Matched case-insensitively.
DEFAULT_REFUSAL_PATTERNS = (
    r"^\W*(?:(?:i'?m|i am|we'?re|we are) sorry\W*(?:but\W*)?)?(?:i|we)\s*"
    r"(?:cannot|can ?not|can'?t|can’t|won'?t|will not|am unable to|'?m unable to|am not able to|'?m not able to|"
    r"are unable to|are not able to)\b",
    r"^\W*(?:sorry|unfortunately)\W+(?:but\W+)?(?:i|we)\s*(?:cannot|can'?t|can’t|am unable|'?m unable)\b",
    r"\bas an ai(?: language)? model\b",
)


@dataclass(frozen=True)
class Rules:
    """Thresholds of the content checks."""

    min_chars: int = 10
    max_tokens: int = 65_536
    refusal_patterns: Sequence[str] = DEFAULT_REFUSAL_PATTERNS
    compiled: tuple[re.Pattern[str], ...] = field(default=(), compare=False)

    def refusals(self) -> tuple[re.Pattern[str], ...]:
        return self.compiled or tuple(re.compile(p, re.IGNORECASE) for p in self.refusal_patterns)

    @staticmethod
    def build(min_chars: int = 10, max_tokens: int = 65_536, refusal_patterns: Sequence[str] | None = None) -> Rules:
        """Rules with their refusal patterns compiled; raises ValueError naming a bad pattern."""
        patterns = tuple(refusal_patterns) if refusal_patterns is not None else DEFAULT_REFUSAL_PATTERNS
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise ValueError(f"invalid refusal pattern '{pattern}': {exc}") from None
        return Rules(min_chars, max_tokens, patterns, tuple(compiled))


def _content_text(content: Any) -> str | None:
    """Text of a message's content: a string, or the text parts of a list; None when neither."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        if all(isinstance(p, str) for p in parts) and len(parts) == len(content):
            return "".join(p for p in parts if isinstance(p, str))
    return None


def chat_turns(record: Any) -> tuple[list[Turn], Found]:
    """Turns of an OpenAI chat fine-tuning record and every structural problem in it."""
    if not isinstance(record, dict):
        return [], [("invalid_record", f"expected a JSON object, got {type(record).__name__}")]
    messages = record.get("messages")
    if messages is None:
        return [], [("missing_messages", "no `messages` key")]
    if not isinstance(messages, list) or not messages:
        return [], [("missing_messages", "`messages` must be a non-empty list")]
    turns: list[Turn] = []
    found: Found = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            found.append(("invalid_record", f"{where} is not an object"))
            continue
        role = message.get("role")
        if not isinstance(role, str) or not role:
            found.append(("invalid_record", f"{where} has no `role`"))
            continue
        if role not in KNOWN_ROLES:
            found.append(("unknown_role", f"{where} has unknown role '{role}' (use {', '.join(KNOWN_ROLES)})"))
        weight = message.get("weight")
        if weight is not None and weight not in (0, 1):
            found.append(("invalid_record", f"{where}.weight must be 0 or 1, got {weight!r}"))
        content = message.get("content")
        calls_tool = role == "assistant" and bool(message.get("tool_calls") or message.get("function_call"))
        text = "" if content is None else _content_text(content)
        if text is None:
            found.append(("invalid_record", f"{where}.content must be text, got {type(content).__name__}"))
            continue
        if not text.strip() and not calls_tool:
            found.append(("empty_content", f"{where} ({role}) has empty content"))
        turns.append((role, text))
    roles = [role for role, _ in turns]
    if turns and "assistant" not in roles:
        found.append(("no_assistant", "the conversation has no assistant turn"))
    elif turns and roles[-1] != "assistant":
        found.append(("not_ending_with_assistant", f"the conversation ends with a {roles[-1]} turn, not the assistant"))
    return turns, found


def record_turns(record: Any, fmt: str) -> tuple[list[Turn], Found]:
    """Turns of an Alpaca, evals, CSV or generic JSONL record (via the suite importer)."""
    try:
        case = record_to_case(record, fmt, {})
    except ValueError as exc:
        return [], [("invalid_record", str(exc))]
    if "messages" in case:
        turns: list[Turn] = [(m["role"], m["content"]) for m in case["messages"]]
    else:
        turns = [("user", case["input"])]
    references = case.get("references") or ([case["reference"]] if "reference" in case else [])
    turns.extend(("assistant", text) for text in references[:1])
    found: Found = []
    for i, (role, text) in enumerate(turns):
        if not text.strip():
            found.append(("empty_content", f"turn {i + 1} ({role}) has empty content"))
    if fmt in TRAINING_FORMATS and not references:
        found.append(("no_assistant", "the record has no answer (`output`) to train on"))
    return turns, found


def content_problems(turns: list[Turn], rules: Rules) -> Found:
    """Quality findings on the turns' text: very short user/assistant turns and assistant refusals."""
    found: Found = []
    refusals = rules.refusals()
    for i, (role, text) in enumerate(turns):
        stripped = text.strip()
        if role in ("user", "assistant") and 0 < len(stripped) < rules.min_chars:
            found.append(
                ("short_content", f"turn {i + 1} ({role}) has {len(stripped)} characters (< {rules.min_chars}): {stripped!r}")
            )
        if role == "assistant":
            for pattern in refusals:
                match = pattern.search(stripped)
                if match:
                    start = max(0, match.start() - 10)
                    found.append(("refusal", f"turn {i + 1} (assistant) looks like a refusal: {stripped[start:start + 60]!r}"))
                    break
    return found
