"""The pytest plugin, through pytest's own `pytester`: suites as items, outcomes, markers, -k, gates, junit, xdist."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.testing import FakeOpenAIServer, Fault

SUITE = """\
name: demo
models:
  preds: predictions:answers.jsonl
cases:
  - {id: alpha-1, input: 'alpha 1', required_patterns: [alpha], tags: [account]}
  - {id: alpha-2, input: 'alpha 2', required_patterns: [alpha], tags: [account]}
  - {id: beta-1, input: 'beta 1', forbidden_patterns: [wrong], tags: [billing]}
  - {id: beta-2, input: 'beta 2', tags: [billing]}
gates:
  - pass_rate >= 90%
  - error_rate <= 50%
"""

ANSWERS = [
    {"id": "alpha-1", "output": "alpha one"},
    {"id": "alpha-2", "output": "no such word"},
    {"id": "beta-1", "output": "a wrong answer"},
    # beta-2 has no prediction: a request error
]


def exact(*patterns: str) -> list[str]:
    """fnmatch patterns with [ and ] taken literally (item names are `case[model]`)."""
    return [re.sub(r"[\[\]]", lambda m: f"[{m.group(0)}]", pattern) for pattern in patterns]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> Path:
    pytester.path.joinpath("answers.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ANSWERS))
    return pytester.makefile(".yaml", demo=SUITE)


def test_cases_and_gates_are_items_with_pass_fail_and_error(pytester: pytest.Pytester, suite: Path) -> None:
    result = pytester.runpytest("--harness", str(suite), "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=3, errors=1)
    result.stdout.fnmatch_lines(exact(
        "demo.yaml::alpha-1[preds] PASSED*",
        "demo.yaml::alpha-2[preds] FAILED*",
        "demo.yaml::beta-1[preds] FAILED*",
        "demo.yaml::beta-2[preds] ERROR*",
        "demo.yaml::gate[pass_rate >= 90%] FAILED*",
        "demo.yaml::gate[error_rate <= 50%] PASSED*",
    ))
    # the failure message is the case's failure reasons, not a traceback
    result.stdout.fnmatch_lines(exact(
        "case 'alpha-2' on model 'preds' failed 1 check(s):",
        "  - required: 'alpha': missing",
        "  output: 'no such word'",
    ))
    result.stdout.fnmatch_lines(exact("*case 'beta-2' on model 'preds': the request failed: missing_prediction*"))
    result.stdout.fnmatch_lines(exact("gate 'pass_rate >= 90%' failed:", "  - pass_rate (preds): point estimate 33.3%, needs >= 90.0%"))
    assert "Traceback" not in result.stdout.str() and "collect.py" not in result.stdout.str()


def test_tags_are_markers_and_k_selects_what_is_run(pytester: pytest.Pytester, suite: Path) -> None:
    output = pytester.path / "out"
    result = pytester.runpytest("--harness", str(suite), "-m", "account", "--harness-output", str(output), "--strict-markers")
    result.assert_outcomes(passed=1, failed=1)
    [run_dir] = [p for p in output.iterdir() if p.is_dir()]
    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert sorted(r["case_id"] for r in records) == ["alpha-1", "alpha-2"]  # only the selected cases were asked

    result = pytester.runpytest("--harness", str(suite), "-k", "beta and not gate")
    result.assert_outcomes(failed=1, errors=1)
    result = pytester.runpytest("--harness", str(suite), "-k", "gate")  # gates alone run the whole suite
    result.assert_outcomes(passed=1, failed=1)


def test_harness_output_writes_the_run_directory_with_reports_and_history(pytester: pytest.Pytester, suite: Path) -> None:
    output = pytester.path / "out"
    pytester.runpytest("--harness", str(suite), "--harness-output", str(output))
    [run_dir] = [p for p in output.iterdir() if p.is_dir()]
    assert {"run.json", "results.jsonl", "summary.json", "report.html", "junit.xml", "summary.md"} <= {
        p.name for p in run_dir.iterdir()}
    assert (output / "history.sqlite").is_file()


def test_junitxml_has_one_testcase_per_item(pytester: pytest.Pytester, suite: Path) -> None:
    xml_path = pytester.path / "junit.xml"
    pytester.runpytest("--harness", str(suite), f"--junitxml={xml_path}")
    root = ET.parse(xml_path).getroot()
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert set(cases) == {"alpha-1[preds]", "alpha-2[preds]", "beta-1[preds]", "beta-2[preds]",
                          "gate[pass_rate >= 90%]", "gate[error_rate <= 50%]"}
    assert cases["alpha-1[preds]"].find("failure") is None and cases["alpha-1[preds]"].find("error") is None
    failure = cases["alpha-2[preds]"].find("failure")
    assert failure is not None and "required: 'alpha': missing" in (failure.get("message") or "")
    assert cases["beta-2[preds]"].find("error") is not None
    properties = {p.get("name"): p.get("value") for p in cases["alpha-1[preds]"].iter("property")}
    assert properties["case"] == "alpha-1" and properties["model"] == "preds"


def test_suite_files_named_by_pattern_are_collected(pytester: pytest.Pytester, suite: Path) -> None:
    suite.rename(pytester.path / "support.harness.yaml")
    pytester.makepyfile(test_other="def test_other(): pass")
    result = pytester.runpytest()
    result.assert_outcomes(passed=3, failed=3, errors=1)
    result = pytester.runpytest("-m", "harness")
    result.assert_outcomes(passed=2, failed=3, errors=1)
    pytester.makeini("[pytest]\nharness_files = nothing-*.yaml\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_bad_suite_is_one_located_collection_error(pytester: pytest.Pytester) -> None:
    bad = pytester.makefile(".yaml", bad="name: bad\ncases:\n  - {id: a, input: x, required_paterns: [y]}\n")
    result = pytester.runpytest("--harness", str(bad))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(exact("*bad.yaml:3:*unknown key 'required_paterns' (did you mean 'required_patterns'?)*"))
    missing = pytester.runpytest("--harness", "nowhere.yaml")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(exact("*--harness nowhere.yaml: suite file not found*"))


ENDPOINT_SUITE = """\
name: live
cases:
  - {id: c1, input: 'alpha 1', required_patterns: [alpha]}
  - {id: c2, input: 'alpha 2', required_patterns: [alpha]}
  - {id: c3, input: 'broken', required_patterns: [echo]}
  - {id: c4, input: 'beta', required_patterns: [alpha]}
"""


def _fail_broken(index: int, body: dict[str, object]) -> Fault | None:
    messages = body.get("messages") or []
    last = messages[-1]["content"] if isinstance(messages, list) and messages else ""
    return Fault(status=400, message="bad request") if last == "broken" else None


@pytest.fixture
def endpoint(fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAIServer:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    fake_openai.faults = _fail_broken
    return fake_openai


def test_against_the_local_server_with_the_response_cache(pytester: pytest.Pytester, endpoint: FakeOpenAIServer) -> None:
    suite = pytester.makefile(".yaml", live=ENDPOINT_SUITE)
    args = ["--harness", str(suite), "--harness-model", "openai:model-a", "--harness-model", "openai:model-b"]
    result = pytester.runpytest(*args, "-v")
    result.assert_outcomes(passed=4, failed=2, errors=2)
    result.stdout.fnmatch_lines(exact("live.yaml::c1[openai:model-a] PASSED*", "live.yaml::c3[openai:model-b] ERROR*"))
    result.stdout.fnmatch_lines(exact("*the request failed: bad_request*"))
    answered = endpoint.request_count
    assert answered == 8

    again = pytester.runpytest(*args)
    again.assert_outcomes(passed=4, failed=2, errors=2)
    assert endpoint.request_count == answered + 2  # only the two failed requests are asked again

    endpoint.reset()
    pytester.runpytest(*args, "--harness-no-cache").assert_outcomes(passed=4, failed=2, errors=2)
    assert endpoint.request_count == 8


def test_repeats_are_items_of_their_own(pytester: pytest.Pytester, endpoint: FakeOpenAIServer) -> None:
    suite = pytester.makefile(".yaml", live=ENDPOINT_SUITE)
    result = pytester.runpytest("--harness", str(suite), "--harness-model", "openai:m", "--harness-repeat", "2",
                                "-k", "c1", "-v")
    result.stdout.fnmatch_lines(exact("live.yaml::c1[openai:m-r0] PASSED*", "live.yaml::c1[openai:m-r1] PASSED*"))
    assert endpoint.request_count == 2


@pytest.mark.slow
def test_xdist_workers_send_each_request_once(pytester: pytest.Pytester, endpoint: FakeOpenAIServer) -> None:
    suite = pytester.makefile(".yaml", live=ENDPOINT_SUITE)
    xml_path = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "-n", "2", "--harness", str(suite), "--harness-model", "openai:model-a", "--harness-model", "openai:model-b",
        "--harness-no-cache", f"--junitxml={xml_path}", "-p", "no:cacheprovider",
    )
    result.assert_outcomes(passed=4, failed=2, errors=2)
    # 4 cases x 2 models once; the 400s are not retried
    assert endpoint.request_count == 8
    assert sorted(r["model"] for r in endpoint.requests) == ["model-a"] * 4 + ["model-b"] * 4
    workers = {case.get("name"): case for case in ET.parse(xml_path).getroot().iter("testcase")}
    assert len(workers) == 8
    result.stdout.fnmatch_lines(exact("*live.yaml: 4 cases, run directory*"))


def test_harness_run_fixture_runs_cases_or_a_suite(pytester: pytest.Pytester, suite: Path) -> None:
    pytester.makepyfile(test_custom="""
        def test_cases(harness_run):
            run = harness_run(
                [{"id": "alpha-1", "input": "alpha 1", "required_patterns": ["alpha"]},
                 {"id": "alpha-2", "input": "alpha 2", "required_patterns": ["alpha"]}],
                models=["predictions:answers.jsonl"],
            )
            block = run.summary["models"]["predictions:answers.jsonl"]
            assert (block["passed"], block["failed"], block["errors"]) == (1, 1, 0)
            assert [r["case_id"] for r in run.results] == ["alpha-1", "alpha-2"]

        def test_suite(harness_run):
            run = harness_run("demo.yaml", gates=["pass_rate >= 10%"])
            assert run.summary["models"]["preds"]["errors"] == 1
            assert [g["passed"] for g in run.summary["gates"]] == [False, True, True]
    """)
    pytester.runpytest("test_custom.py").assert_outcomes(passed=2)


def test_the_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    code = (
        "import sys, pytest; pytest.main(['-q', '-p', 'no:cacheprovider', 'test_x.py']); "
        "print([m for m in ('harness.api', 'harness.suite', 'pydantic', 'yaml', 'openai', 'numpy', 'prometheus_client') "
        "if m in sys.modules])"
    )
    pytester.makepyfile(test_x="def test_x(): pass")
    result = subprocess.run([sys.executable, "-c", code], cwd=pytester.path, capture_output=True, text=True,
                            check=True, env={**os.environ})
    assert "1 passed" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
