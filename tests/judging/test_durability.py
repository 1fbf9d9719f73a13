"""Judgments are as durable as answers, the judge has the same error budget as the models, and
data-file text reaches the models and the judge exactly as written."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RunError
from harness.testing import FakeOpenAIServer, Fault
from tests.judging.conftest import (
    SUITE,
    Scripted,
    judge_prompt,
    judge_requests,
    prefers_good,
    run_judged,
    write_suite,
)

JUDGE_CONCURRENCY = 4


def _judge_key(body: dict[str, Any]) -> str:
    return json.dumps(body["messages"], sort_keys=True)


@pytest.mark.slow
def test_kill_9_during_judging_re_asks_at_most_the_requests_in_flight(tmp_path: Path) -> None:
    cases = 100
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: judged\ncases:\n" + "".join(f"  - {{id: q{i}, input: 'Question {i}'}}\n" for i in range(cases)))

    def answer(body: dict[str, Any]) -> str:
        if body["model"] in ("cand", "base"):
            return f"{body['model']} says {body['messages'][-1]['content']}"
        return "A is better. [[A]]"

    slow_judge = Fault(delay=0.02)
    server = FakeOpenAIServer(responder=answer, faults=lambda index, body: slow_judge if body["model"] == "judge" else None)
    with server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
        args = [sys.executable, "-m", "harness", "run", str(suite), "-m", "openai:cand", "--baseline", "openai:base",
                "--judge", "openai:judge", "-c", str(JUDGE_CONCURRENCY), "-o", str(tmp_path / "reports"), "-q"]
        first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(judge_requests(server)) < 110:
            time.sleep(0.005)
        assert len(judge_requests(server)) >= 110, "judging never got going"
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        asked_first = {_judge_key(body) for body in judge_requests(server)}

        server.reset()
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180, check=False)
        assert second.returncode == 0, second.stderr
        asked_second = [_judge_key(body) for body in judge_requests(server)]
    assert not [body for body in server.requests if body["model"] != "judge"]  # every answer came from the cache
    repeated = asked_first.intersection(asked_second)
    assert len(repeated) <= JUDGE_CONCURRENCY  # only what was in flight when the first run died
    assert len(asked_first) + len(asked_second) - len(repeated) == 2 * cases  # and nothing was skipped


def test_a_judge_that_keeps_failing_stops_the_run_naming_the_error(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.faults = lambda index, body: Fault(status=503, message="judge pool drained") if body["model"] == "judge" else None
    with pytest.raises(RunError) as err:
        run_judged(write_suite(tmp_path), max_retries=0)
    message = err.value.message
    assert re.match(r"judge 'openai:judge': all (\d+) requests failed in a row \(server_error \1\)", message), message
    assert 'server_error: "HTTP 503: judge pool drained"' in message
    run = json.loads((err.value.run_dir / "run.json").read_text())  # type: ignore[attr-defined]
    assert run["status"] == "aborted" and "judge pool drained" in run["error"]


def test_judge_failures_under_the_budget_are_named_on_the_last_line(tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer) -> None:
    failed = {"done": False}

    def once(index: int, body: dict[str, Any]) -> Fault | None:
        if body["model"] == "judge" and not failed["done"]:
            failed["done"] = True
            return Fault(status=500, message="blip")
        return None

    fake_openai.faults = once
    outcome = run_judged(write_suite(tmp_path), max_retries=0)
    assert outcome.errors_line is not None
    assert "1 judgments are invalid because the judge's request failed" in outcome.errors_line


def test_predictions_and_source_text_reach_the_model_and_the_judge_verbatim(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer
) -> None:
    literal = "Question 1: in Jinja, what does {{ 7*7 }} print? {# keep #}"
    (tmp_path / "rows.jsonl").write_text(json.dumps({"id": "q1", "input": literal}) + "\n")
    (tmp_path / "preds.jsonl").write_text(json.dumps({"id": "q1", "output": "It prints {{ 7*7 }} as {% raw %}49"}) + "\n")
    suite = write_suite(tmp_path, "name: literal\nmodels: {saved: 'predictions:preds.jsonl'}\nsources:\n  - path: rows.jsonl\n")
    scripted.judge = lambda body: "B. [[B]]" if "raw" in judge_prompt(body).split("Answer B")[1] else "A. [[A]]"
    run_judged(suite, models=["saved"], baseline="openai:base")
    asked = [body for body in fake_openai.requests if body["model"] == "base"]
    assert [body["messages"][-1]["content"] for body in asked] == [literal]
    prompts = [judge_prompt(body) for body in judge_requests(fake_openai)]
    assert len(prompts) == 2 and all(literal in p and "It prints {{ 7*7 }} as {% raw %}49" in p for p in prompts)


def test_a_judge_template_that_fails_on_real_answers_stops_the_run_with_exit_3(
    tmp_path: Path, scripted: Scripted, fake_openai: FakeOpenAIServer
) -> None:
    template = tmp_path / "loud.yaml"
    template.write_text(
        "kind: pairwise\nprompt: '{{ question }} {{ answer_a * 200000 }} {{ answer_b }}'\nretry_prompt: again\n",
        encoding="utf-8",
    )
    scripted.judge = prefers_good
    suite = write_suite(tmp_path, SUITE + "judge: {pairwise: loud.yaml}\n")
    with pytest.raises(RunError, match=r"judge template 'loud.yaml' .*: template line 1: repeating a text or list"):
        run_judged(suite)
