"""Importers that turn external data files into raw case dictionaries.

Supported formats: OpenAI chat fine-tuning JSONL (`messages`), Alpaca JSON/JSONL
(`instruction`, `input`, `output`), OpenAI evals samples JSONL (`input`, `ideal`),
CSV with named columns, and generic JSONL records (`input`, `reference`...) driven by a
field mapping. Rows are streamed, so `harness data` can reuse `iter_records` on large files.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from harness.errors import Diagnostic

FORMATS = ("openai_chat", "alpaca", "evals", "csv", "jsonl")

_CSV_INPUT_COLUMNS = ("input", "prompt", "question")
_CSV_REFERENCE_COLUMNS = ("reference", "ideal", "answer", "output", "expected")


class SourceError(Exception):
    """A problem in a source file; carries its diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Record:
    line: int  # 1-based line of the record in the file (CSV: the row's line)
    row: int  # 1-based position among the file's records
    data: Any


MAX_REPORTED_PROBLEMS = 20


def iter_records(
    path: Path, fmt: str, shown: str, on_bytes: Callable[[int], None] | None = None
) -> Iterator[Record | Diagnostic]:
    """Stream a file's records; malformed ones come out as diagnostics, not exceptions.

    `on_bytes`, when given, is called with the number of bytes consumed as reading goes on
    (per line for JSONL, once for JSON arrays and CSV), to drive a progress bar.
    """
    if fmt == "csv":
        yield from _iter_csv(path, shown)
        if on_bytes is not None:
            on_bytes(path.stat().st_size)
        return
    if path.suffix.lower() == ".json":
        if on_bytes is not None:
            on_bytes(path.stat().st_size)
        yield from _iter_json_array(path, shown)
        return
    with path.open("rb") as handle:
        row = 0
        for line_no, raw in enumerate(handle, start=1):
            if on_bytes is not None:
                on_bytes(len(raw))
            if not raw.strip():
                continue
            row += 1
            try:
                yield Record(line_no, row, orjson.loads(raw))
            except orjson.JSONDecodeError as exc:
                yield Diagnostic(shown, f"invalid JSON: {exc.args[0]}", line_no)


def _iter_json_array(path: Path, shown: str) -> Iterator[Record | Diagnostic]:
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        yield Diagnostic(shown, f"invalid JSON: {exc.args[0]}", getattr(exc, "lineno", None))
        return
    if isinstance(data, dict):
        # Accept {"data": [...]}-style wrappers, the common way JSON datasets are shipped.
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            yield Diagnostic(shown, "expected a JSON array of records (or an object holding exactly one array)")
            return
        data = lists[0]
    if not isinstance(data, list):
        yield Diagnostic(shown, "expected a JSON array of records")
        return
    for index, item in enumerate(data, start=1):
        yield Record(0, index, item)


def _iter_csv(path: Path, shown: str) -> Iterator[Record | Diagnostic]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(8192)
        handle.seek(0)
        delimiter = "\t" if path.suffix.lower() == ".tsv" or (sample.count("\t") > sample.count(",")) else ","
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Diagnostic(shown, f"unreadable CSV header: {exc}", 1)
            return
        header = [h.strip() for h in header]
        if len(set(header)) != len(header):
            yield Diagnostic(shown, "duplicate column names in the header", 1)
            return
        row = 0
        while True:
            line_no = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Diagnostic(shown, f"unreadable CSV row: {exc}", line_no)
                return
            if not any(v.strip() for v in values):
                continue
            row += 1
            if len(values) != len(header):
                yield Diagnostic(
                    shown, f"row has {len(values)} fields but the header has {len(header)}", reader.line_num
                )
                continue
            yield Record(reader.line_num, row, dict(zip(header, values, strict=True)))


def detect_format(path: Path, first: Any) -> str | None:
    """Guess a source's format from its extension and first record."""
    if path.suffix.lower() in (".csv", ".tsv"):
        return "csv"
    if not isinstance(first, dict):
        return None
    if "messages" in first:
        return "openai_chat"
    if "instruction" in first:
        return "alpaca"
    if "ideal" in first:
        return "evals"
    if "input" in first:
        return "jsonl"
    return None


def _lookup(data: dict[str, Any], mapping: dict[str, str], target: str, fallbacks: tuple[str, ...]) -> Any:
    if target in mapping:
        return data.get(mapping[target])
    for key in fallbacks:
        if key in data:
            return data[key]
    return None


def _as_text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"`{what}` must be text, got {type(value).__name__}")


def _split_tags(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [_as_text(v, "tags") for v in value]
    text = _as_text(value, "tags")
    separator = ";" if ";" in text else ","
    return [t.strip() for t in text.split(separator) if t.strip()]


def _chat_messages(value: Any, what: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"`{what}` must be a non-empty list of chat messages")
    messages = []
    for i, message in enumerate(value):
        if not isinstance(message, dict) or "role" not in message:
            raise ValueError(f"`{what}[{i}]` must be an object with `role` and `content`")
        role = message["role"]
        if role not in ("system", "user", "assistant"):
            raise ValueError(f"`{what}[{i}]` has unsupported role '{role}'")
        content = message.get("content")
        if content is None:
            content = ""
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        messages.append({"role": role, "content": _as_text(content, f"{what}[{i}].content")})
    return messages


def record_to_case(record: Any, fmt: str, mapping: dict[str, str]) -> dict[str, Any]:
    """Turn one record into a raw case dict (keys of CaseSpec). Raises ValueError on bad records."""
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, got {type(record).__name__}")
    case: dict[str, Any] = {}

    if fmt == "openai_chat":
        if "input" in mapping:
            case["input"] = _as_text(record.get(mapping["input"]), "input")
        else:
            messages = _chat_messages(record.get("messages"), "messages")
            last_assistant = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
            if last_assistant is not None and last_assistant == len(messages) - 1:
                case["reference"] = messages[-1]["content"]
                messages = messages[:-1]
            if not messages or messages[-1]["role"] != "user":
                raise ValueError("the conversation has no user turn before the final assistant answer")
            case["messages"] = messages
    elif fmt == "alpaca":
        instruction = _lookup(record, mapping, "instruction", ("instruction",))
        if instruction is None:
            raise ValueError("missing `instruction`")
        text = _as_text(instruction, "instruction")
        extra = _lookup(record, mapping, "input", ("input",))
        if extra:
            text = f"{text}\n\n{_as_text(extra, 'input')}"
        case["input"] = text
        output = _lookup(record, mapping, "output", ("output",))
        if output is not None:
            case["reference"] = _as_text(output, "output")
    elif fmt == "evals":
        value = _lookup(record, mapping, "input", ("input",))
        if isinstance(value, list):
            case["messages"] = _chat_messages(value, "input")
        elif value is None:
            raise ValueError("missing `input`")
        else:
            case["input"] = _as_text(value, "input")
        ideal = _lookup(record, mapping, "references", ("ideal",))
        if isinstance(ideal, list):
            case["references"] = [_as_text(v, "ideal") for v in ideal]
        elif ideal is not None:
            case["reference"] = _as_text(ideal, "ideal")
    else:  # csv and generic jsonl
        value = _lookup(record, mapping, "input", _CSV_INPUT_COLUMNS)
        if value is None or value == "":
            raise ValueError(f"no input column (looked for {', '.join(_CSV_INPUT_COLUMNS)}; set mapping.input)")
        if isinstance(value, list):
            case["messages"] = _chat_messages(value, "input")
        else:
            case["input"] = _as_text(value, "input")
        references = _lookup(record, mapping, "references", ("references",))
        if isinstance(references, list):
            case["references"] = [_as_text(v, "references") for v in references]
        else:
            reference = _lookup(record, mapping, "reference", _CSV_REFERENCE_COLUMNS)
            if reference is not None and reference != "":
                case["reference"] = _as_text(reference, "reference")
        if fmt == "csv":
            # Every column is available to templates, e.g. `{{ context }}` in a system prompt.
            case["vars"] = dict(record)

    if "system" in mapping or (fmt in ("alpaca",) and "system" in record):
        system = record.get(mapping.get("system", "system"))
        if system:
            base = case.pop("messages", None) or [{"role": "user", "content": case.pop("input")}]
            case["messages"] = [{"role": "system", "content": _as_text(system, "system")}, *base]

    case_id = _lookup(record, mapping, "id", ("id",))
    if case_id is not None and case_id != "":
        case["id"] = _as_text(case_id, "id")
    tags = _lookup(record, mapping, "tags", ("tags",))
    if tags is not None:
        case["tags"] = _split_tags(tags)
    rubric = _lookup(record, mapping, "rubric", ("rubric",))
    if rubric:
        case["rubric"] = _as_text(rubric, "rubric")
    for target, column in mapping.items():
        group, _, name = target.partition(".")
        if group in ("vars", "metadata") and name:
            case.setdefault(group, {})[name] = record.get(column)
    return case
