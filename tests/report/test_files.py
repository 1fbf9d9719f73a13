"""junit.xml, summary.md and `harness report`: rendered from the run directory alone."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report.finalize import finalize_run
from harness.run.store import RESULTS_FILE, load_run, read_jsonl, write_jsonl
from harness.stats.bounds import mean_bounds
from harness.testing import FakeOpenAIServer
from tests.report.conftest import XSS, World, make_run
from tests.report.helpers import cli


@pytest.fixture
def judged_run(tmp_path: Path, fake_openai: FakeOpenAIServer, world: World) -> Path:
    outcome = make_run(tmp_path, fake_openai, cases=12, gates=["win_rate >= 0.7", "pass_rate[tuned] >= 0.9"])
    return outcome.run_dir


def test_junit_structure(judged_run: Path) -> None:
    root = ET.parse(judged_run / "junit.xml").getroot()
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["demo.gates", "demo.tuned", "demo.base"]

    gates = suites["demo.gates"]
    assert (gates.get("tests"), gates.get("failures"), gates.get("errors")) == ("2", "1", "0")
    failed = [case for case in gates.findall("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == ["win_rate >= 0.7 [tuned]"]
    failure = failed[0].find("failure")
    assert failure is not None and failure.get("type") == "gate"
    assert "95% lower bound" in (failure.get("message") or "") and ">= 70.0%" in (failure.get("message") or "")

    tuned = suites["demo.tuned"]
    cases = tuned.findall("testcase")
    assert len(cases) == 12 and tuned.get("tests") == "12" and tuned.get("failures") == "1"
    assert {case.get("classname") for case in cases} == {"demo.tuned"}
    assert [case.get("name") for case in cases][:2] == ["case-0000", "case-0001"]
    [failing] = [case for case in cases if case.find("failure") is not None]
    assert failing.get("name") == "case-0006"
    message = failing.find("failure")
    assert message is not None and message.get("message") == "required: 'step': missing"
    assert "Question 6: nope" in (message.text or "")
    base = suites["demo.base"]
    assert base.get("failures") == "6"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("26", "8", "0")


def test_junit_errors_and_characters_xml_cannot_carry(judged_run: Path) -> None:
    records = read_jsonl(judged_run / RESULTS_FILE)
    records[0]["error"] = {"kind": "timeout", "message": "no answer in 60 s", "status": None}
    records[0]["output"] = None
    records[0]["passed"] = None
    records[2]["passed"] = False
    records[2]["checks"] = [{"name": "bad\x00char", "passed": False, "reason": "ctrl \x1b[31m red"}]
    write_jsonl(judged_run / RESULTS_FILE, records)
    finalize_run(judged_run)
    root = ET.parse(judged_run / "junit.xml").getroot()  # parses: no illegal characters left
    tuned = root.find("testsuite[@name='demo.tuned']")
    assert tuned is not None and tuned.get("errors") == "1"
    error = tuned.find("testcase[@name='case-0000']/error")
    assert error is not None and error.get("type") == "timeout" and error.get("message") == "timeout: no answer in 60 s"
    failure = tuned.find("testcase[@name='case-0002']/failure")
    assert failure is not None and failure.get("message") == "bad\ufffdchar: ctrl \ufffd[31m red"


def test_summary_markdown(judged_run: Path) -> None:
    text = (judged_run / "summary.md").read_text()
    lines = text.splitlines()
    assert lines[0] == "## harness: demo — ❌ Don't ship `tuned`: 1 of 2 gates failed: win_rate &gt;= 0.7"
    # base passes the even cases, tuned all but case 6: McNemar b=1, c=6, p = 2 * (1 + 7) / 2**7
    assert ("`tuned` against `base`: **1 regression**, 6 improvements, 5 pass on both, 0 fail on both "
            "(exact McNemar p = 0.125).") in text
    # the candidate's regressions come first, before the gates and the figures
    assert [line for line in lines if line.startswith("### ")][:3] == ["### Regressions", "### Improvements", "### Gates"]
    scores = [line["score"] for line in load_run(judged_run).judgments if line["kind"] == "pairwise" and line.get("score") is not None]
    lower = mean_bounds(scores).lower  # 12 items with a tie: the bounded-mean bound (36.0 %)
    assert f"| ❌ fail | `win_rate >= 0.7` | win_rate (tuned vs base) | 95% lower bound | {100 * lower:.1f}% | &gt;= 70.0% |" in text
    assert "| ✅ pass | `pass_rate[tuned] >= 0.9` | pass_rate (tuned) | point estimate | 91.7% |" in text
    assert "| model | pass rate | error rate | latency p95 | win rate | rubric |" in text
    # the worst regression: case-0006, which the baseline passes and the candidate fails
    assert "| case-0006 | account | tuned | pass | fail | required: 'step': missing; judge preferred the baseline" in text
    assert "<script>" not in text and "<b>" not in text


def test_report_command_regenerates_from_the_directory(judged_run: Path, capsys: pytest.CaptureFixture[str],
                                                       fake_openai: FakeOpenAIServer) -> None:
    before = {name: (judged_run / name).read_text() for name in ("report.html", "summary.md", "junit.xml")}
    for name in before:
        (judged_run / name).unlink()
    requests = fake_openai.request_count
    code, out, _ = cli(["report", str(judged_run), "--no-history"], capsys)
    assert code == 1  # the recorded win-rate gate fails
    assert out.splitlines() == [str(judged_run / name) for name in ("report.html", "summary.md", "junit.xml")]
    assert {name: (judged_run / name).read_text() for name in before} == before
    assert fake_openai.request_count == requests
    summary = json.loads((judged_run / "summary.json").read_text())
    assert [g["passed"] for g in summary["gates"]] == [False, True]


def test_report_html_is_self_contained_and_escaped(judged_run: Path) -> None:
    html = (judged_run / "report.html").read_text()
    assert "<script>window.__xss" not in html and "onerror=\"window" not in html
    assert "\\u003cscript\\u003ewindow.__xss" in html  # the payload travels as escaped JSON data
    assert "<b>bold</b>" not in html
    for remote in ("http://", "https://", "//cdn", "<link rel=\"stylesheet\""):
        assert remote not in html.replace("http://www.w3.org/2000/svg", "")
    assert html.count("<script") == 2 and "Content-Security-Policy" in html


def test_report_of_a_run_without_judge_or_gates(tmp_path: Path, fake_openai: FakeOpenAIServer, world: World) -> None:
    outcome = make_run(tmp_path, fake_openai, cases=3, judged=False, models=["tuned"])
    assert outcome.gates == []
    text = (outcome.run_dir / "summary.md").read_text()
    assert text.startswith("## harness: demo — no gates")
    root = ET.parse(outcome.run_dir / "junit.xml").getroot()
    assert [s.get("name") for s in root.findall("testsuite")] == ["demo.tuned"]
    assert XSS not in (outcome.run_dir / "report.html").read_text()


def test_a_run_summarized_before_the_exact_bounds_is_gated_with_them(judged_run: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    summary_file = judged_run / "summary.json"
    summary = json.loads(summary_file.read_text())
    for key in ("method", "upper_bound", "units"):
        summary["pairwise"]["tuned"].pop(key)
    summary["pairwise"]["tuned"]["lower_bound"] = 0.99  # an old bootstrap bound that would pass
    summary_file.write_text(json.dumps(summary))
    code, out, _ = cli(["gate", str(judged_run), "--only", "-g", "win_rate >= 0.7"], capsys)
    scores = [line["score"] for line in load_run(judged_run).judgments if line["kind"] == "pairwise" and line.get("score") is not None]
    assert code == 1 and f"{100 * mean_bounds(scores).lower:.1f}%" in out


def test_charts_draw_the_bounds_valid_at_every_n(judged_run: Path) -> None:
    from scipy.stats import beta

    from harness.report.chart_blocks import charts
    from harness.report.finalize import run_gates
    from harness.report.view import build_view

    data = load_run(judged_run)
    view = build_view(data, run_gates(data), data.judgments)
    drawn = {chart["name"]: chart for group in (charts(view) or {})["groups"] for chart in group["charts"]}
    # pass rate: the exact (Clopper–Pearson) two-sided 95 % interval, 11 of 12 for tuned
    tips = [t.text or "" for t in ET.fromstring(str(drawn["fig-pass_rate"]["svg"])).iter("{http://www.w3.org/2000/svg}title")]
    low, high = beta.ppf(0.025, 11, 2), beta.ppf(0.975, 12, 1)  # SciPy's Beta quantiles: 61.5 %, 99.8 %
    assert tips[0].startswith(f"tuned: 91.7% ({100 * low:.1f}% – {100 * high:.1f}%)"), tips
    assert drawn["fig-pass_rate"]["caption"] == "whiskers: 95% interval, exact binomial (Clopper–Pearson)"
    # win rate by tag: the judge's ties make it a bounded mean (Hoeffding–Bentkus), as summary.json says
    assert "Hoeffding–Bentkus (bounded mean)" in drawn["win-tuned"]["caption"]
    assert "bootstrap" not in drawn["win-tuned"]["caption"]
    assert "Wilson" not in (judged_run / "report.html").read_text()


def test_a_regression_count_that_cannot_be_significant_says_so(judged_run: Path) -> None:
    # 1 pass -> fail against 6 fail -> pass on 12 cases: McNemar needs b with 2·P(X <= 6 | b + 6) < 0.05,
    # b = 17 (p = 0.0347; b = 16 gives 0.0525), and 17 + 6 flips do not fit in 12 cases
    note = ("12 paired cases cannot show a significant regression: it takes at least 17 pass → fail flips "
            "(with 6 fail → pass) for exact McNemar at α = 0.05")
    assert f"(exact McNemar p = 0.125). {note}." in (judged_run / "summary.md").read_text()
    assert note in (judged_run / "report.html").read_text()
