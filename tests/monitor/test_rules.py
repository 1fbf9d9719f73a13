"""Monitor rules: the syntax, static checks, and located errors in a suite's `monitor:` block."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.monitor.rules import Drift, RuleSyntaxError, check_rule, parse_rule
from harness.monitor.service import parse_duration
from harness.suite.loader import load_suite


def test_absolute_rules_are_gates() -> None:
    rule = parse_rule("error_rate <= 2%")
    assert rule.drift is None and rule.gate.figure == "error_rate" and rule.gate.threshold == pytest.approx(0.02)
    rule = parse_rule("pass_rate[tuned, tag=billing] >= 0.9", name="billing", retrain=True)
    assert (rule.gate.model, rule.gate.tag, rule.name, rule.retrain) == ("tuned", "billing", "billing", True)


@pytest.mark.parametrize(("text", "drift"), [
    ("pass_rate >= median(10) - 5%", Drift(10, "-", 0.05, True)),
    ("pass_rate >= median - 0.05", Drift(7, "-", 0.05, False)),
    ("latency_p95 <= median(5) * 1.5", Drift(5, "*", 1.5, False)),
    ("cost_per_1k <= median(3)", Drift(3)),
    ("win_rate.lower[tuned] >= median( 20 )+1%", Drift(20, "+", 0.01, True)),
])
def test_drift_rules(text: str, drift: Drift) -> None:
    rule = parse_rule(text, default_window=7)
    assert rule.drift == drift
    assert check_rule(rule, None) is None


def test_drift_threshold_arithmetic() -> None:
    assert Drift(3, "-", 0.05).threshold(0.85) == pytest.approx(0.80)
    assert Drift(3, "+", 0.5).threshold(2.0) == pytest.approx(2.5)
    assert Drift(3, "*", 1.5).threshold(2.0) == pytest.approx(3.0)
    assert Drift(3).threshold(0.7) == pytest.approx(0.7)


@pytest.mark.parametrize(("text", "message", "column"), [
    ("pass_rate >= medain(10) - 5%", "found 'medain' (did you mean 'median'?)", 14),
    ("pass_rate >= median(x)", "median(N) takes a whole number", 21),
    ("pass_rate >= median(10) / 2", "expected '-', '+' or '*' after the median", 25),
    ("pass_rate >= median(10) * 0", "the factor must be a positive number", 27),
    ("pass_rate >= median(10) - 5% extra", "unexpected 'extra'", 30),
    ("pass_rate => 90%", "write '>=' instead of '=>'", 11),
    ("pass_rate 90%", "expected a comparison", 11),
    ("run_completes", "built in", 1),
])
def test_syntax_errors_name_the_column(text: str, message: str, column: int) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        parse_rule(text)
    assert message in info.value.message
    assert info.value.column == column


def test_static_checks_reuse_the_gate_figures() -> None:
    assert "unknown figure 'pass_rat' (did you mean 'pass_rate'?)" in (check_rule(parse_rule("pass_rat >= 0.9"), []) or "")
    assert "fraction between 0 and 1" in (check_rule(parse_rule("pass_rate >= median - 5"), []) or "")
    assert check_rule(parse_rule("rougeL >= median(5) - 0.02"), ["rougeL"]) is None


@pytest.mark.parametrize(("text", "seconds"), [("30", 30), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("1d", 86400), ("1.5s", 1.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15 minutes", "0s", "m", "1x"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


SUITE_HEAD = "name: demo\ncases:\n  - {id: a, input: x}\n"


def _load_errors(tmp_path: Path, monitor: str) -> list[str]:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE_HEAD + monitor, encoding="utf-8")
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    return [line.replace(str(path), "suite.yaml") for line in info.value.lines()]


def test_monitor_block_errors_are_located(tmp_path: Path) -> None:
    errors = _load_errors(tmp_path, (
        "monitor:\n"
        "  rules:\n"
        "    - pass_rate >= medain(5)\n"
        "    - {rule: 'latncy_p95 <= 2', retrain: true}\n"
        "    - error_rate <= 2%\n"
    ))
    assert errors == [
        "suite.yaml:6:20: monitor rule 'pass_rate >= medain(5)': expected a number or median(N) after the comparison, "
        "found 'medain' (did you mean 'median'?)",
        "suite.yaml:7:15: monitor rule 'latncy_p95 <= 2': unknown figure 'latncy_p95' (did you mean 'latency_p95'?)",
    ]


def test_webhook_must_be_http(tmp_path: Path) -> None:
    errors = _load_errors(tmp_path, "monitor:\n  webhook: ftp://example.com/hook\n")
    assert errors == ["suite.yaml:5:12: webhook: 'ftp://example.com/hook' is not an http(s) URL (or a ${NAME} environment variable)"]
    errors = _load_errors(tmp_path, "monitor:\n  webhok: http://127.0.0.1/x\n")
    assert errors == ["suite.yaml:5:3: unknown key 'webhok' (did you mean 'webhook'?)"]


def test_a_valid_block_loads(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE_HEAD + "monitor:\n  webhook: ${HOOK_URL}\n  window: 4\n  rules: ['pass_rate >= median - 5%']\n")
    spec = load_suite(path).spec
    assert spec is not None and spec.monitor is not None
    assert spec.monitor.webhook == "${HOOK_URL}" and spec.monitor.rules[0].rule == "pass_rate >= median - 5%"
