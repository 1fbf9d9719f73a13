"""The stand-in endpoint: its script format, its judge policy, and a whole judged run against it."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from rich.console import Console

from harness.api import RunOptions, run_suite
from harness.errors import SuiteError
from harness.testing import FakeOpenAIServer
from harness.testing.policy import ScriptedEndpoint
from harness.testing.script import load_script

SCRIPT = r"""
models:
  base:
    replies:
      - {when: password, reply: "No problem! Use the reset link on the login page."}
      - {when: 'regex:^hi\b', reply: "Hello! How can I help you today?"}
    default: Sorry, I do not know that one.
  tuned:
    replies:
      password: "1. Go to techcorp.com/login. 2. Click Forgot Password."
      invoice: "1. Open Billing > Invoices. 2. Click Download PDF."
      hi: "1. Open Help > Contact us."
judge:
  prefer: ['regex:^1\.', 'Forgot Password']
"""

SUITE = """\
name: standin-demo
models:
  tuned: openai:tuned
  base: openai:base
baseline: base
judge: {model: 'openai:judge', closed_qa: true}
defaults: {rubric: Numbered steps naming the menu items.}
gates:
  - win_rate[tuned] >= 0.6
cases:
  - {id: password, input: I forgot my password., reference: "1. Go to techcorp.com/login. 2. Click Forgot Password."}
  - {id: invoice, input: Where is my invoice?, reference: "1. Open Billing > Invoices."}
  - {id: greeting, input: hi there, reference: Hello! How can I help you today?}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def chat(endpoint: ScriptedEndpoint, model: str, *messages: tuple[str, str]) -> str:
    reply = endpoint({"model": model, "messages": [{"role": r, "content": c} for r, c in messages]})
    return reply if isinstance(reply, str) else reply.content


def test_models_answer_by_the_first_matching_rule_then_the_default(tmp_path: Path) -> None:
    endpoint = ScriptedEndpoint(load_script(write(tmp_path / "s.yaml", SCRIPT)))
    assert chat(endpoint, "base", ("user", "I FORGOT my Password")).startswith("No problem!")  # case-insensitive
    assert chat(endpoint, "base", ("user", "hi!")) == "Hello! How can I help you today?"
    assert chat(endpoint, "base", ("user", "oh hi")) == "Sorry, I do not know that one."  # regex anchored at ^
    # the last user message decides, and a model without a default echoes it
    assert chat(endpoint, "tuned", ("user", "invoice?"), ("assistant", "..."), ("user", "what now")) == "echo: what now"
    assert endpoint.faults(0, {"model": "tuned"}) is None
    fault = endpoint.faults(0, {"model": "gpt-4o"})
    assert fault is not None and fault.status == 404 and "serves: base, tuned, judge" in fault.message


@pytest.mark.parametrize(("text", "message"), [
    ("models: {base: {replies: [{when: 'regex:(', reply: x}]}}\n", "s.yaml:1:34: invalid regular expression: missing )"),
    ("models:\n  base: {default: x, answers: []}\n", "s.yaml:2:22: "),
    ("judge: {prefer: []}\n", "s.yaml:1:"),
    ("models: {judge: {default: x}}\njudge: {prefer: x}\n", "'judge' is both a model and the judge"),
    ("{}\n", "the script serves nothing"),
    ("- a list\n", "a stand-in script is a mapping"),
])
def test_script_problems_are_located_lines(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SuiteError) as caught:
        load_script(write(tmp_path / "s.yaml", text))
    assert message in str(caught.value), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_judged_run_against_the_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = ScriptedEndpoint(load_script(write(tmp_path / "s.yaml", SCRIPT)))
    with FakeOpenAIServer(responder=endpoint, faults=endpoint.faults) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        outcome = run_suite(write(tmp_path / "suite.yaml", SUITE),
                            RunOptions(output_dir=tmp_path / "reports", progress=False, max_retries=0),
                            Console(file=io.StringIO()))
    summary = outcome.summary
    # tuned leads with steps and names Forgot Password on one case: wins password and invoice, and
    # loses nothing (the greeting: its "1." against base's none is a win too)
    pairwise = summary["pairwise"]["tuned"]
    assert (pairwise["wins"], pairwise["losses"], pairwise["ties"], pairwise["invalid"]) == (3, 0, 0, 0)
    assert pairwise["inconsistent"] == 0  # the policy gives the same verdict in both orders
    assert pairwise["soft"]["win_rate"] == pytest.approx(0.8 / 0.9)  # P(A) / (P(A) + P(B)) at the verdict token
    # rubric 1-10: low 2 (no pattern), 6 (one of two: 2 + round(7 / 2)), high 9 (both)
    rubric = {line["case_id"] + "/" + line["model"]: line["score"] for line in map(json.loads, (
        outcome.run_dir / "judgments.jsonl").read_text().splitlines()) if line["kind"] == "rubric"}
    assert rubric == {"password/tuned": 9, "invoice/tuned": 6, "greeting/tuned": 6,
                      "password/base": 2, "invoice/base": 2, "greeting/base": 2}
    assert summary["closed_qa"]["tuned"]["mean"] == pytest.approx(1 / 3)  # yes only when every pattern matches
    # three wins of three: the exact one-sided bound is 0.05 ** (1/3) = 36.8 %, so the gate fails
    # and says how many items it would take (0.05 ** (1/6) = 60.7 % >= 60 %)
    [gate] = outcome.gates
    assert gate.gate == "win_rate[tuned] >= 0.6" and not gate.passed
    assert gate.value == pytest.approx(0.05 ** (1 / 3)) and "at least 6 valid items are needed" in gate.note


def test_serve_prints_its_url_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    script = write(tmp_path / "s.yaml", SCRIPT)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "harness.testing", "serve", "--script", str(script), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+/v1)", first)
        assert found, first
        assert "serving base, tuned; judge 'judge'" in process.stdout.readline()
        assert f"export OPENAI_BASE_URL={found.group(1)}" in process.stdout.readline()
        client = openai.OpenAI(base_url=found.group(1), api_key="not-needed", max_retries=0)
        try:
            reply = client.chat.completions.create(model="tuned", messages=[{"role": "user", "content": "invoice"}])
            assert reply.choices[0].message.content == "1. Open Billing > Invoices. 2. Click Download PDF."
            with pytest.raises(openai.NotFoundError, match="does not exist on this stand-in"):
                client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
        finally:
            client.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_reports_a_bad_script_in_one_line(tmp_path: Path) -> None:
    script = write(tmp_path / "s.yaml", "judge: {prefer: 'regex:['}\n")
    done = subprocess.run([sys.executable, "-m", "harness.testing", "serve", "--script", str(script)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"error: {script}:1:") and "invalid regular expression" in done.stderr
