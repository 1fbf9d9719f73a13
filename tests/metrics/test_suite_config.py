"""Metric configuration in suite files: located one-line errors at load time, and the default set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.metrics.options import BleuOptions, RougeOptions
from harness.metrics.plan import DEFAULT_TEXT_METRICS, build_plan
from harness.suite.loader import Suite, load_suite

WriteSuite = Callable[[str], Path]


def _errors(path: Path) -> list[str]:
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    return [line.removeprefix(f"{path}:") for line in caught.value.lines()]


def _plan(suite: Suite):  # type: ignore[no-untyped-def]
    return build_plan(suite.metrics, suite.labels, suite.cases, suite.directory)


def test_unknown_metric_names_and_options_are_located_with_a_suggestion(write_suite: WriteSuite) -> None:
    path = write_suite(
        """\
        metrics:
          - rougl
          - {name: bleu, options: {tokenise: intl}}
          - {name: chrf, options: {char_order: 0}}
          - name: bleus
        cases:
          - {id: a, input: hi, reference: hello}
        """
    )
    assert _errors(path) == [
        "2:5: unknown metric 'rougl' (did you mean 'rougeL'?)",
        "3:5: bleu: unknown option 'tokenise' (did you mean 'tokenize'?)",
        "4:5: chrf: option 'char_order': input should be greater than or equal to 1",
        "5:11: unknown metric 'bleus' (did you mean 'bleu'?)",
    ]


def test_metric_checks_are_validated(write_suite: WriteSuite) -> None:
    path = write_suite(
        """\
        cases:
          - id: a
            input: hi
            reference: hello
            checks:
              - {metric: rouge, min: 0.4}
              - {metric: rougeL}
              - {min: 0.3}
              - {metric: bleu, min: 50, max: 10}
              - {metric: rougeL, min: 0.1, equals: x}
        """
    )
    assert _errors(path) == [
        "6:9: unknown metric 'rouge' in a check (did you mean 'rougeL'?)",
        "7:9: the check on metric 'rougeL' needs `min`, `max` or both",
        "8:9: `min`/`max` go with `metric:` (e.g. {metric: rougeL, min: 0.4})",
        "9:9: the check on metric 'bleu' has min 50 above max 10",
        "10:9: a check needs exactly one of equals, starts_with, regex, is_json, json_schema, min_length, "
        "max_length, min_words, max_words, metric (found: equals, metric)",
    ]


def test_suite_level_metric_problems(write_suite: WriteSuite) -> None:
    duplicate = write_suite("metrics: [bleu, chrf, bleu]\ncases: [{id: a, input: hi, reference: x}]\n")
    assert _errors(duplicate) == ["1:23: metric 'bleu' is listed twice (also item 1)"]
    missing = write_suite('metrics: ["evaluate:./nope.py", classification]\ncases: [{id: a, input: hi, reference: x}]\n')
    errors = _errors(missing)
    assert errors[0].startswith("1:11: evaluate:./nope.py: metric script './nope.py' not found")
    assert errors[1] == "1:33: classification needs a label set: add `labels: [...]` to the suite or `labels` to its options"


def test_label_and_reference_problems_name_the_case(write_suite: WriteSuite) -> None:
    path = write_suite(
        """\
        labels: [positive, negative]
        cases:
          - {id: a, input: hi, reference: positve}
          - {id: b, input: hi, references: [positive, negative]}
          - {id: c, input: hi, checks: [{metric: accuracy, min: 1}]}
          - {id: d, input: hi, reference: " Negative. "}
        """
    )
    assert _errors(path) == [
        "3: case 'a': reference 'positve' is not one of the labels (positive, negative)",
        "4: case 'b': a classification case takes one reference label, not 2",
        "5: case 'c': the check on metric 'accuracy' needs a reference, and the case has none",
    ]
    bad_labels = write_suite("labels: [spam, 'Spam!']\ncases: [{id: a, input: hi}]\n")
    assert _errors(bad_labels) == ["1:9: labels 'spam' and 'Spam!' are the same once normalized"]
    booleans = write_suite("labels: [yes, no]\ncases: [{id: a, input: hi}]\n")
    assert _errors(booleans) == ["1:9: YAML reads yes/no/true/false as booleans: quote labels like these ('yes')"]


def test_default_metrics(write_suite: WriteSuite) -> None:
    with_references = load_suite(write_suite("cases: [{id: a, input: hi, reference: x}, {id: b, input: yo}]\n"))
    assert [name for name, _ in _plan(with_references).text] == list(DEFAULT_TEXT_METRICS)
    without = load_suite(write_suite("cases: [{id: a, input: hi}]\n"))
    assert _plan(without).empty
    labelled = load_suite(write_suite("labels: [spam, ham]\ncases: [{id: a, input: hi, reference: spam}]\n"))
    plan = _plan(labelled)
    assert plan.text == () and plan.labels == ["spam", "ham"]


def test_listed_metrics_options_and_metrics_implied_by_checks(write_suite: WriteSuite) -> None:
    suite = load_suite(
        write_suite(
            """\
            metrics:
              - bleu
              - {name: rougeL, options: {use_stemmer: false}}
            defaults:
              checks: [{metric: token_f1, min: 0.5}]
            cases:
              - {id: a, input: hi, reference: x, checks: [{metric: rougeL, max: 0.9}]}
            """
        )
    )
    plan = _plan(suite)
    assert [name for name, _ in plan.text] == ["bleu", "rougeL", "token_f1"]
    assert plan.options_of("bleu") == BleuOptions()
    assert plan.options_of("rougeL") == RougeOptions(use_stemmer=False)
    assert [c.metric for c in plan.checks["a"]] == ["token_f1", "rougeL"]
