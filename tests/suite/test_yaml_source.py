from __future__ import annotations

import pytest

from harness.errors import SuiteError
from harness.suite.yaml_source import Position, parse_yaml


def test_positions_of_keys_and_values_are_one_based() -> None:
    doc = parse_yaml("name: x\ncases:\n  - id: a\n    input: hello\n", "s.yaml")
    assert doc.data == {"name": "x", "cases": [{"id": "a", "input": "hello"}]}
    assert doc.keys[("cases",)] == Position(2, 1)
    assert doc.values[("cases", 0)] == Position(3, 5)
    assert doc.keys[("cases", 0, "input")] == Position(4, 5)
    assert doc.values[("cases", 0, "input")] == Position(4, 12)


def test_position_falls_back_to_nearest_located_ancestor() -> None:
    doc = parse_yaml("cases:\n  - id: a\n", "s.yaml")
    assert doc.position(("cases", 0, "missing", 3)) == Position(2, 5)


def test_duplicate_keys_are_errors_not_silently_overwritten() -> None:
    with pytest.raises(SuiteError) as err:
        parse_yaml("name: a\ncases: []\nname: b\n", "s.yaml")
    assert str(err.value) == "s.yaml:3:1: duplicate key 'name'"


def syntax_error(text: str) -> str:
    with pytest.raises(SuiteError) as err:
        parse_yaml(text, "syntax.yaml")
    return str(err.value)


def test_unclosed_quote_is_located_where_the_quote_opens() -> None:
    text = 'name: x\ncases:\n  - id: a\n    input: hi\n  - id: b\n    input: "unclosed\n  - id: c\n    input: x\n\n\n'
    assert syntax_error(text) == "syntax.yaml:6:12: unclosed quoted scalar (found end of file at 11:1)"


def test_unclosed_bracket_is_located_where_it_opens() -> None:
    text = "cases:\n  - id: a\n    input: [unclosed\n"
    assert syntax_error(text) == "syntax.yaml:3:12: unclosed '[' (did not find expected ',' or ']' at 4:1)"


def test_bad_indentation_names_the_line_and_the_block() -> None:
    text = "name: x\ncases:\n  - id: a\n    input: hi\n   tags: [a]\n"
    assert syntax_error(text) == (
        "syntax.yaml:5:4: bad indentation: this line does not line up with the block that starts at 3:3 "
        "(did not find expected '-' indicator)"
    )
    text = "name: x\ncases:\n  - id: a\n    input: hi\n      tags: [a]\n"
    assert syntax_error(text).startswith("syntax.yaml:5:11: unexpected ':': is this line indented too far")


def test_tab_character_is_named() -> None:
    assert syntax_error("name: x\ncases:\n\t- id: a\n") == (
        "syntax.yaml:3:1: a tab character: YAML indents and separates with spaces only"
    )


def test_a_line_without_a_colon() -> None:
    assert syntax_error("name: x\nfoo bar\nbaz: 1\n") == (
        "syntax.yaml:2:1: a line that is neither 'key: value' nor a '- ' list item (no ':' found before 3:1)"
    )


def test_merge_keys_and_anchors_are_resolved() -> None:
    doc = parse_yaml("base: &b {tags: [x]}\ncase:\n  <<: *b\n  id: y\n", "s.yaml")
    assert doc.data["case"] == {"tags": ["x"], "id": "y"}


def test_empty_document_has_no_data() -> None:
    assert parse_yaml("", "s.yaml").data is None
