from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.models.spec import FineTunedId, parse_spec


def test_fine_tuned_ids_are_parsed_for_their_base() -> None:
    spec = parse_spec("ft:gpt-4o-mini-2024-07-18:acme:support:abc123")
    assert spec.kind == "openai" and spec.target == "ft:gpt-4o-mini-2024-07-18:acme:support:abc123"
    assert spec.fine_tuned == FineTunedId("gpt-4o-mini-2024-07-18", "acme", "support", "abc123")
    assert spec.base_model == "gpt-4o-mini-2024-07-18"
    # legacy ids have an empty suffix
    assert parse_spec("ft:gpt-3.5-turbo-0613:personal::7qTVM5AR").fine_tuned == FineTunedId(
        "gpt-3.5-turbo-0613", "personal", "", "7qTVM5AR"
    )
    assert parse_spec("openai:ft:gpt-4o:org:x:1").base_model == "gpt-4o"


@pytest.mark.parametrize("name", ["gpt-4o-mini", "gpt-4.1", "o3-mini", "o1", "chatgpt-4o-latest"])
def test_plain_openai_names(name: str) -> None:
    spec = parse_spec(name)
    assert (spec.kind, spec.target, spec.fine_tuned) == ("openai", name, None)


def test_other_kinds() -> None:
    assert parse_spec("openai:llama3:8b").target == "llama3:8b"
    hf = parse_spec("hf:models/base+adapters/a+adapters/b")
    assert (hf.kind, hf.target, hf.adapters) == ("hf", "models/base", ("adapters/a", "adapters/b"))
    pred = parse_spec("predictions:out/preds.jsonl")
    assert (pred.kind, pred.target) == ("predictions", "out/preds.jsonl")
    run = parse_spec("run:reports/base-2026-11-30#ft-support")
    assert (run.kind, run.target, run.recorded_model) == ("run", "reports/base-2026-11-30", "ft-support")
    assert parse_spec("run:reports/x").recorded_model is None
    # the first `#` separates the directory; the model may hold more (it was itself a run: model)
    nested = parse_spec("run:reports/rerun-1#run:reports/base-1#openai:base")
    assert (nested.target, nested.recorded_model) == ("reports/rerun-1", "run:reports/base-1#openai:base")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("llama3", "unknown model spec 'llama3'"),
        ("foo:bar", "unknown model spec 'foo:bar'"),
        ("", "empty model spec"),
        ("ft:", "malformed fine-tuned model id 'ft:'"),
        ("ft:gpt-4o", "malformed fine-tuned model id"),
        ("openai:", "names no model"),
        ("hf:", "expected hf:<path-or-id>"),
        ("hf:base+", "expected hf:<path-or-id>"),
        ("predictions:", "names no file"),
        ("run:", "expected run:<run-dir> or run:<run-dir>#<model>"),
        ("run:reports/x#", "expected run:<run-dir> or run:<run-dir>#<model>"),
        ("run:#base", "expected run:<run-dir> or run:<run-dir>#<model>"),
    ],
)
def test_bad_specs_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("+", r"\+")):
        parse_spec(text)
