from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.suite.loader import load_suite

Write = Callable[[str, str], Path]

FULL_SUITE = """\
name: full
description: every field
system: "You are {{ role }}."
generation: {temperature: 0, max_tokens: 64, top_p: 0.9, seed: 3, stop: ["END"]}
models:
  base: openai:base-model
  tuned:
    spec: ft:gpt-4o-mini-2024-07-18:acme:support:abc123
    base_url: http://127.0.0.1:9/v1
    api_key_env: MY_KEY
    generation: {temperature: 0.5}
    concurrency: 4
    timeout: 5
    max_retries: 1
    options: {max_tokens_param: max_completion_tokens}
baseline: base
defaults:
  required_patterns: [always]
  forbidden_patterns: ["regex:sorry|apolog"]
  checks: [{max_words: 50}]
  tags: [all]
  vars: {role: an assistant, product: Widget}
  metadata: {team: support}
cases:
  - id: templated
    input: "Tell me about {{ product }} {{ n }}."
    vars: {n: 2}
    reference: "It is good."
    required_patterns: [{pattern: Widget, case_sensitive: true}]
    checks:
      - {equals: "x", case_sensitive: false}
      - starts_with: "It"
      - regex: "\\\\d+"
      - is_json: true
      - json_schema: {type: object}
      - min_length: 1
      - max_length: 10
      - min_words: 1
    rubric: Be brief.
    tags: [product, all]
    metadata: {priority: high}
  - messages:
      - {role: user, content: "Hi"}
      - {role: assistant, content: "Hello!"}
      - {role: user, content: "Bye {{ product }}"}
    references: ["Goodbye", "Bye"]
metrics: [exact_match, {name: rougeL, options: {use_stemmer: true}}]
judge: {model: gpt-4o}
gates: ["pass_rate >= 0.5"]
"""


def test_every_field_is_loaded_and_defaults_are_merged(write: Write) -> None:
    suite = load_suite(write("full.yaml", FULL_SUITE))
    assert suite.name == "full"
    assert suite.description == "every field"
    assert suite.generation.request_dict() == {"temperature": 0, "max_tokens": 64, "top_p": 0.9, "seed": 3, "stop": ["END"]}
    assert suite.models["base"].spec == "openai:base-model"
    tuned = suite.models["tuned"]
    assert (tuned.base_url, tuned.api_key_env, tuned.concurrency, tuned.timeout, tuned.max_retries) == (
        "http://127.0.0.1:9/v1", "MY_KEY", 4, 5.0, 1
    )
    assert tuned.generation is not None and tuned.generation.temperature == 0.5
    assert suite.baseline == "base"
    assert suite.gates == ["pass_rate >= 0.5"]
    assert suite.judge is not None and suite.judge.model == "gpt-4o"
    assert len(suite.metrics) == 2

    first, second = suite.cases
    assert first.id == "templated"
    assert first.messages == [
        {"role": "system", "content": "You are an assistant."},
        {"role": "user", "content": "Tell me about Widget 2."},
    ]
    assert first.references == ["It is good."]
    # defaults come first, then the case's own entries
    assert [p.pattern for p in first.required_patterns] == ["always", "Widget"]
    assert first.required_patterns[1].case_sensitive is True
    assert first.forbidden_patterns[0].regex is True and first.forbidden_patterns[0].pattern == "sorry|apolog"
    assert [c.kind for c in first.checks] == [
        "max_words", "equals", "starts_with", "regex", "is_json", "json_schema",
        "min_length", "max_length", "min_words",
    ]
    assert first.tags == ["all", "product"]  # merged without duplicates
    assert first.metadata == {"team": "support", "priority": "high"}
    assert first.rubric == "Be brief."
    assert first.origin.endswith("full.yaml:25")

    assert second.id == "case-2"
    assert second.messages[0] == {"role": "system", "content": "You are an assistant."}
    assert second.messages[-1] == {"role": "user", "content": "Bye Widget"}
    assert second.references == ["Goodbye", "Bye"]
    assert second.input_text == "Bye Widget"


def test_json_schema_path_is_resolved_relative_to_the_suite(write: Write) -> None:
    write("schemas/answer.json", json.dumps({"type": "object", "required": ["answer"]}))
    suite = load_suite(
        write("s.yaml", "cases:\n  - input: q\n    checks: [{json_schema: schemas/answer.json}]\n")
    )
    assert suite.cases[0].checks[0].json_schema == {"type": "object", "required": ["answer"]}


def test_suite_hash_and_counts(write: Write) -> None:
    path = write("s.yaml", "cases:\n  - {input: a, tags: [x]}\n  - {input: b, tags: [x, y]}\n")
    suite = load_suite(path)
    import hashlib

    assert suite.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert suite.count_by_tag() == {"x": 2, "y": 1}
    assert suite.count_by_source() == {"inline": 2}


MALFORMED = [
    ("cases:\n  - input: a\n    chekcs: []\n", "s.yaml:3:5: unknown key 'chekcs' (did you mean 'checks'?)"),
    ("nmae: x\ncases: [{input: a}]\n", "s.yaml:1:1: unknown key 'nmae' (did you mean 'name'?)"),
    ("cases:\n  - input: a\n    required_patterns: [{patern: x}]\n",
     "s.yaml:3:26: unknown key 'patern' (did you mean 'pattern'?)"),
    ("models:\n  m: {spec: openai:x, base_ur: y}\ncases: [{input: a}]\n",
     "s.yaml:2:23: unknown key 'base_ur' (did you mean 'base_url'?)"),
    ("cases:\n  - id: a\n", "s.yaml:2:5: a case needs `input` or `messages`"),
    ("cases:\n  - input: a\n    messages: [{role: user, content: b}]\n",
     "s.yaml:2:5: give either `input` or `messages`, not both"),
    ("cases:\n  - input: a\n    reference: x\n    references: [y]\n",
     "s.yaml:2:5: give either `reference` or `references`, not both"),
    ("cases:\n  - messages: [{role: robot, content: b}]\n",
     "s.yaml:2:23: role: input should be 'system', 'user' or 'assistant' (got 'robot')"),
    ("cases:\n  - messages: [{role: user, content: a}, {role: assistant, content: b}]\n",
     "s.yaml:2:5: `messages` must end with a user turn for the model to answer"),
    ("cases:\n  - input: a\n    tags: billing\n", "s.yaml:3:11: tags: input should be a valid list (got 'billing')"),
    ("generation: {temperature: 5}\ncases: [{input: a}]\n",
     "s.yaml:1:27: temperature: input should be less than or equal to 2 (got 5)"),
    ("cases:\n  - input: a\n    checks: [{max_words: 3, min_words: 1}]\n",
     "s.yaml:3:14: a check needs exactly one of equals, starts_with, regex, is_json, json_schema, min_length, "
     "max_length, min_words, max_words, metric (found: min_words, max_words)"),
    ("cases:\n  - input: a\n    checks:\n      - regex: '(['\n",
     "s.yaml:4:9: invalid regular expression '([': unterminated character set at position 1"),
    ("cases:\n  - input: a\n    required_patterns: ['regex:a(']\n",
     "s.yaml:3:25: invalid regular expression 'a(': missing ), unterminated subpattern at position 1"),
    ("cases:\n  - input: 'Hi {{ name }}'\n", "s.yaml:2:12: case 'case-1': template uses an undefined variable: 'name' is undefined (add it to `vars`)"),
    ("cases:\n  - input: 'Hi {{ name'\n", "s.yaml:2:12: case 'case-1': template syntax error on line 1 of the text: unexpected end of template, expected 'end of print statement'."),
    ("cases:\n  - {id: a, input: x}\n  - {id: a, input: y}\n", "s.yaml: duplicate case id 'a' (s.yaml:3 and s.yaml:2)"),
    ("name: empty\n", "s.yaml:1:1: the suite has no cases: add `cases:` or `sources:`"),
    ("cases: []\n", "s.yaml:1:1: the suite has no cases: add `cases:` or `sources:`"),
    ("- just\n- a list\n", "s.yaml:1:1: the top level of a suite must be a mapping of keys (name, cases, ...)"),
    ("cases:\n  - input: a\n  - input: [b\n", "s.yaml:3:12: unclosed '[' (did not find expected ',' or ']' at 4:1)"),
    ("sources:\n  - path: missing.jsonl\n", "s.yaml:2:11: source file 'missing.jsonl' not found"),
    ("cases:\n  - input: a\n    checks: [{json_schema: nope.json}]\n", "s.yaml:3:28: schema file 'nope.json' not found"),
    ("cases:\n  - input: a\n    checks: [{json_schema: {type: 12}}]\n", "s.yaml:3:14: invalid JSON schema: 12 is not valid under any of the given schemas"),
]


@pytest.mark.parametrize(("text", "expected"), MALFORMED)
def test_malformed_suites_give_one_located_line(write: Write, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, expected: str | None) -> None:
    monkeypatch.chdir(tmp_path)
    write("s.yaml", text)
    with pytest.raises(SuiteError) as err:
        load_suite("s.yaml")
    lines = err.value.lines()
    assert len(lines) == 1, lines
    if expected is None:
        assert lines[0].startswith("s.yaml:") and "invalid YAML" in lines[0]
    elif expected.endswith("not found"):
        assert lines[0].startswith(expected)
    else:
        assert lines[0] == expected


def test_all_problems_are_reported_sorted_by_line(write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write("s.yaml", "cases:\n  - input: a\n    tgas: []\n  - input: b\n    chekcs: []\n")
    with pytest.raises(SuiteError) as err:
        load_suite("s.yaml")
    assert err.value.lines() == [
        "s.yaml:3:5: unknown key 'tgas' (did you mean 'tags'?)",
        "s.yaml:5:5: unknown key 'chekcs' (did you mean 'checks'?)",
    ]


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match=r"nope\.yaml: file not found"):
        load_suite(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(SuiteError, match="not UTF-8"):
        load_suite(bad)
