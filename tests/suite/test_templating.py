"""Data is literal, suite text is a template, and no template can hang, exhaust or escape the sandbox."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import SuiteError
from harness.suite.loader import load_suite
from harness.suite.templating import TemplateProblem, render

Write = Callable[[str, str], Path]

LITERAL_ROWS = [
    "In Jinja, what does {{ 7*7 }} print?",
    "Keep this {# note #} in the text",
    "Go templates write {{ .Name }}",
    "{{ 'a' * 4000000000 }}",
    "{% include '/etc/passwd' %}",
]


def test_source_rows_are_sent_exactly_as_written(write: Write) -> None:
    write("rows.jsonl", "".join(json.dumps({"input": text, "ctx": "c"}) + "\n" for text in LITERAL_ROWS))
    write("chat.jsonl", json.dumps({"messages": [{"role": "system", "content": "{{ 1+1 }}"}, {"role": "user", "content": "{{ x }}"}]}) + "\n")
    write("table.csv", "question,context\n\"What is {{ 7*7 }}?\",ctx {{ 2 }}\n")
    suite = load_suite(write("s.yaml", "sources:\n  - path: rows.jsonl\n  - path: chat.jsonl\n  - path: table.csv\n"))
    assert [case.messages[-1]["content"] for case in suite.cases] == [*LITERAL_ROWS, "{{ x }}", "What is {{ 7*7 }}?"]
    assert suite.cases[len(LITERAL_ROWS)].messages[0]["content"] == "{{ 1+1 }}"


def test_the_suites_own_text_is_a_template_and_gets_row_values_literally(write: Write) -> None:
    write("rows.csv", "question,context\nWhat is {{ 7*7 }}?,ctx {{ 2 }}\n")
    suite = load_suite(write("s.yaml", "system: 'Context: {{ context }} ({{ 3*3 }})'\nsources:\n  - path: rows.csv\n"
                                      "cases:\n  - {id: inline, input: '{{ 6*7 }} {{ context }}', vars: {context: '{{ 1 }}'}}\n"))
    inline, row = suite.cases
    assert inline.messages == [
        {"role": "system", "content": "Context: {{ 1 }} (9)"},
        {"role": "user", "content": "42 {{ 1 }}"},
    ]
    assert row.messages == [
        {"role": "system", "content": "Context: ctx {{ 2 }} (9)"},
        {"role": "user", "content": "What is {{ 7*7 }}?"},
    ]


def test_a_source_may_opt_in_to_templating(write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write("rows.jsonl", json.dumps({"input": "{{ 7*7 }} {{ who }}", "name": "Ann"}) + "\n")
    suite = load_suite(write("s.yaml", "sources:\n  - {path: rows.jsonl, template: true, mapping: {vars.who: name}}\n"))
    assert suite.cases[0].messages[-1]["content"] == "49 Ann"
    write("bad.jsonl", json.dumps({"input": "{{ range(10**9)|length }}"}) + "\n")
    with pytest.raises(SuiteError) as err:
        load_suite(write("t.yaml", "sources:\n  - {path: bad.jsonl, template: true}\n"))
    assert len(err.value.lines()) == 1
    assert err.value.lines()[0].startswith("bad.jsonl:1: case 'bad-1': template line 1:")


HOSTILE = [
    ("{% include '/etc/passwd' %}", "`include` is not allowed"),
    ("{% import 'macros.j2' as m %}", "`import` is not allowed"),
    ("{% from 'macros.j2' import m %}", "`import` is not allowed"),
    ("{% extends 'base.j2' %}", "`extends` is not allowed"),
    ("{{ range(10**9)|length }}", "over the template limit"),
    ("{{ range(200000)|length }}", "range of 200,000 numbers is over the template limit of 100,000"),
    ("{{ 'a' * 4000000000 }}", "repeating a text or list would make 4,000,000,000 characters"),
    ("{{ ['x' * 100000] * 100 }}", "repeating a text or list"),
    ("{{ 9 ** 999999 }}", "too large a number"),
    ("{{ 'a'|center(4000000000) }}", "the number 4,000,000,000 is over the template limit"),
    ("{{ 'a'.ljust(10**9) }}", "the number 1,000,000,000"),
    ("{{ '{:>1000000000}'.format(1) }}", "the number 1,000,000,000"),
    ("{{ '%1000000000d' % 1 }}", "the number 1,000,000,000"),
    ("{{ ('a' * 100000)|replace('a', 'a' * 100000) }}", "this replace would make 10,000,000,000 characters"),
    ("{{ ('a' * 100000).replace('a', 'a' * 100000) }}", "this replace would make"),
    ("{{ range(99999)|join('x' * 100) }}", "this join would make"),
    ("{{ ([[1]] * 60000)|sum(start=[]) }}", "this sum (copying as it adds)"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "joining texts with ~"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "loop steps and calls"),
    ("{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}", "template"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recurses too deeply"),
    ("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "recursive loops are not allowed"),
    ("{{ lipsum(10**9) }}", "over the template limit"),
    ("{{ x.__class__.__mro__ }}", "refused by the sandbox"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{{ x + 1 }}", "TypeError"),
    ("{{ .Name }}", "template syntax error"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_hostile_templates_are_refused_quickly_with_a_reason(text: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as err:
        render(text, {"x": "text"})
    assert message in str(err.value)
    assert time.monotonic() - started < 3  # the render's own limit is 1 s; slack for a loaded machine


def test_ordinary_templates_still_work() -> None:
    variables = {"items": ["a", "b"], "name": "bob", "text": "l1\nl2", "n": 3}
    text = (
        "{{ name|upper }} {{ items|map('upper')|join(', ') }} {{ '%03d'|format(n) }} {{ '{:>3}'.format('a') }} "
        "{{ name|replace('b', 'B') }} {{ '-'.join(items) }} {{ range(n)|sum }} {{ n ** 3 }} {{ 'ab' * 2 }} {{ name ~ '!' }}"
        "{% for item in items %} {{ loop.index }}={{ item }}{% endfor %}\n{{ text|indent(2) }}"
    )
    assert render(text, variables) == "BOB A, B 003   a BoB a-b 3 27 abab bob! 1=a 2=b\nl1\n  l2"
    assert render("{% for i in range(100000) %}{% endfor %}done", {}) == "done"


def test_variables_bigger_than_the_limit_are_inserted_whole() -> None:
    big = "x" * 3_000_000
    assert render("<<{{ answer }}>>", {"answer": big}) == f"<<{big}>>"


@pytest.mark.parametrize(("text", "message"), [
    ("{% include '/etc/passwd' %}", "`include` is not allowed"),
    ("{% import 'x' as y %}", "`import` is not allowed"),
    ("{{ range(10**9)|length }}", "over the template limit"),
    ("{{ 'a' * 4000000000 }}", "repeating a text or list"),
])
def test_the_cli_reports_a_located_suite_error_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(f'name: t\ncases:\n  - id: a\n    input: "{text}"\n')
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", str(suite)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.splitlines() == [err.strip()] and err.startswith(f"{suite}:4:12: case 'a': ") and message in err
    assert "internal error" not in err
    assert time.monotonic() - started < 3


def test_a_bad_system_prompt_is_reported_once_at_its_line(write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write("s.yaml", "system: '{% include \"x\" %}'\ncases:\n  - {input: a}\n  - {input: b}\n")
    with pytest.raises(SuiteError) as err:
        load_suite("s.yaml")
    assert err.value.lines() == [
        "s.yaml:1:9: system (case 'case-1'): template line 1: `include` is not allowed in a suite's text "
        "(templates cannot read other files)"
    ]
