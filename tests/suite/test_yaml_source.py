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


def test_malformed_yaml_reports_line_and_column() -> None:
    with pytest.raises(SuiteError) as err:
        parse_yaml("cases:\n  - id: a\n    input: [unclosed\n", "s.yaml")
    line = str(err.value)
    assert line.startswith("s.yaml:4:")
    assert "invalid YAML" in line


def test_merge_keys_and_anchors_are_resolved() -> None:
    doc = parse_yaml("base: &b {tags: [x]}\ncase:\n  <<: *b\n  id: y\n", "s.yaml")
    assert doc.data["case"] == {"tags": ["x"], "id": "y"}


def test_empty_document_has_no_data() -> None:
    assert parse_yaml("", "s.yaml").data is None
