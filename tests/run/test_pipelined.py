"""Pipelined judging: an item is judged as soon as its answers exist, and the judgments are the staged ones."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from harness.errors import RunError
from harness.run.batch.engine import BatchEngine, BatchJudgeTransport
from harness.run.compose import default_stages
from harness.run.stages import PrepareStage
from harness.run.stages.generate import DirectEngine
from harness.run.stages.judge import StagedJudging
from harness.run.stages.pipelined import PipelinedJudging
from harness.run.store import load_run
from harness.testing import FakeOpenAIServer, Fault, Reply
from tests.judging.test_grading_run import grader

CASES = 24

# Candidate and baseline differ on every third case, answer alike on others, and the candidate
# fails to answer case 7; cases with a multiple of 4 carry a rubric and a reference.
SUITE = "judge: {closed_qa: true}\ncases:\n" + "".join(
    f"  - {{id: q{i}, input: 'Question {i}'"
    + (", rubric: 'Says GOOD', reference: GOOD" if i % 4 == 0 else "")
    + "}\n"
    for i in range(1, CASES + 1)
)


def number(text: str) -> int:
    found = re.search(r"Question (\d+)", text)
    assert found is not None
    return int(found.group(1))


def respond(body: dict[str, Any]) -> str | Reply:
    model = body["model"]
    if model in ("cand", "base", "third"):
        n = number(body["messages"][-1]["content"])
        if model == "third":
            return f"GOOD third answer {n}" if n % 2 else f"poor third answer {n}"
        if model == "base":
            return f"poor answer {n}" if n % 3 else f"GOOD answer {n}"
        return f"GOOD answer {n}"  # the baseline's answer, on multiples of 3
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    if "Answer A:" in prompt:
        a, b = re.findall(r"<<<\n(.*?)\n>>>", prompt, re.DOTALL)[-2:]
        if number(prompt) == 5:
            return "I cannot decide."  # unparseable: re-asked, then invalid
        if ("GOOD" in a) == ("GOOD" in b):
            return "Equal. [[C]]"
        return "A. [[A]]" if "GOOD" in a else "B. [[B]]"
    return grader(body)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    def faults(index: int, body: dict[str, Any]) -> Fault | None:
        if body["model"] == "cand" and number(body["messages"][-1]["content"]) == 7:
            return Fault(status=400, message="refused")
        return None

    with FakeOpenAIServer(responder=respond, faults=faults, latency=0.01) as running:
        monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
        yield running


def run(tmp_path: Path, log: io.StringIO | None = None, **overrides: Any) -> RunOutcome:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    options: dict[str, Any] = {
        "models": ["openai:cand"], "baseline": "openai:base", "judge": "openai:judge", "repeat": 2,
        "output_dir": tmp_path / "reports", "progress": False, "max_retries": 0, "use_cache": False, "concurrency": 2,
    }
    options.update(overrides)
    return run_suite(suite, RunOptions(**options), Console(file=log or io.StringIO(), width=200))


def judgments(outcome: RunOutcome) -> list[dict[str, Any]]:
    return load_run(outcome.run_dir).judgments


def test_pipelined_judgments_equal_the_staged_ones(tmp_path: Path, server: FakeOpenAIServer) -> None:
    staged = run(tmp_path, pipeline=False)
    staged_requests = sorted(json.dumps(b, sort_keys=True) for b in server.requests)
    server.reset()
    pipelined = run(tmp_path, pipeline=True)
    assert sorted(json.dumps(b, sort_keys=True) for b in server.requests) == staged_requests  # the very same requests
    assert judgments(pipelined) == judgments(staged)  # line for line, in the same order
    lines = judgments(staged)
    kinds = [line["kind"] for line in lines]
    assert kinds == ["pairwise"] * (CASES * 2) + ["rubric"] * 24 + ["closed_qa"] * 24  # 6 cases x 2 models x 2 repeats
    outcomes = {line["outcome"] for line in lines if line["kind"] == "pairwise"}
    assert outcomes == {"win", "tie", "invalid", "skipped"}  # every path: judged, identical, unparseable, missing answer
    for key in ("pairwise", "rubric", "closed_qa"):
        assert pipelined.summary[key] == staged.summary[key]


def test_a_panel_judging_every_pair_gives_the_staged_judgments(tmp_path: Path, server: FakeOpenAIServer) -> None:
    panel = {"models": ["openai:cand", "openai:third"], "judges": ["openai:judge", "openai:judge2"], "judge": None,
             "ranking": "round_robin", "repeat": 1}
    staged = run(tmp_path, pipeline=False, **panel)
    server.reset()
    pipelined = run(tmp_path, pipeline=True, **panel)
    lines = judgments(pipelined)
    assert lines == judgments(staged)
    pairs = {(line["candidate"], line["baseline"]) for line in lines if line["kind"] == "pairwise"}
    assert len(pairs) == 3  # every pair of the three models
    judged = [line for line in lines if line["kind"] == "pairwise" and line["judges"]]
    assert judged and all(set(line["judges"]) == {"openai:judge", "openai:judge2"} for line in judged)
    assert pipelined.summary["ranking"] == staged.summary["ranking"]
    info = json.loads((pipelined.run_dir / "run.json").read_text())
    assert info["judge"]["activity"] == json.loads((staged.run_dir / "run.json").read_text())["judge"]["activity"]


def test_judging_starts_before_generation_ends(tmp_path: Path, server: FakeOpenAIServer) -> None:
    log = io.StringIO()
    outcome = run(tmp_path, log, progress=True)
    order = [body["model"] for body in server.requests]
    first_judge = order.index("judge")
    last_answer = max(i for i, model in enumerate(order) if model in ("cand", "base"))
    assert first_judge < last_answer / 2  # most of the judging overlapped generation
    assert outcome.timings["generate_s"] > 0 and outcome.timings["judge_s"] < outcome.timings["generate_s"]
    shown = log.getvalue()
    assert "openai:cand: 48/48 done" in shown and "judge openai:judge (pairwise): " in shown  # progress shows both
    info = json.loads((outcome.run_dir / "run.json").read_text())
    assert info["options"]["pipeline"] is True


def test_the_judge_keeps_its_own_concurrency(tmp_path: Path, server: FakeOpenAIServer) -> None:
    """Requests in flight at the server, per kind (counted from the fault hook to the answer)."""
    lock = threading.Lock()
    in_flight = {"judge": 0, "models": 0}
    peak = {"judge": 0, "models": 0}
    answer = server.responder

    def kind(body: dict[str, Any]) -> str:
        return "judge" if body["model"] == "judge" else "models"

    def arrive(index: int, body: dict[str, Any]) -> Fault | None:
        with lock:
            in_flight[kind(body)] += 1
            peak[kind(body)] = max(peak[kind(body)], in_flight[kind(body)])
        return None

    def leave(body: dict[str, Any]) -> str | Reply:
        with lock:
            in_flight[kind(body)] -= 1
        return answer(body)

    server.faults, server.responder = arrive, leave
    run(tmp_path, concurrency=2)
    assert peak["models"] <= 4  # two per model
    assert peak["judge"] == 2  # the judge's own limit, however many items are ready at once


def test_a_failing_judge_lets_generation_finish_then_stops_the_run(tmp_path: Path, server: FakeOpenAIServer) -> None:
    suite_models = "models:\n  judge: {spec: 'openai:judge', base_url: 'http://127.0.0.1:9/v1'}\n"
    (tmp_path / "suite.yaml").write_text(suite_models + SUITE, encoding="utf-8")
    with pytest.raises(RunError, match="judge 'judge'") as caught:
        run_suite(tmp_path / "suite.yaml", RunOptions(
            models=["openai:cand"], baseline="openai:base", judge="judge", output_dir=tmp_path / "reports",
            progress=False, max_retries=0, use_cache=False), Console(file=io.StringIO()))
    data = load_run(caught.value.run_dir)  # type: ignore[attr-defined]
    assert len(data.results) == CASES * 2  # every answer is there, scored
    assert data.run["status"] == "aborted" and not data.judgments


def test_which_judging_a_run_uses(tmp_path: Path, server: FakeOpenAIServer) -> None:
    def stages(text: str = SUITE, **kw: Any) -> tuple[Any, Any]:
        suite = tmp_path / "suite.yaml"
        suite.write_text(text, encoding="utf-8")
        options = RunOptions(models=["openai:cand"], baseline="openai:base", judge="openai:judge", progress=False,
                             output_dir=tmp_path / "out", **kw)
        ctx = PrepareStage().prepare(suite, options, Console(file=io.StringIO()))
        generate, _, judge, _ = default_stages(ctx)
        for stage in (generate, judge):
            stage.skip(ctx)
        return generate.engine, judge.judging  # type: ignore[attr-defined]

    engine, judging = stages()
    assert isinstance(engine, DirectEngine) and isinstance(judging, PipelinedJudging) and judging.transports == {}
    assert isinstance(stages(pipeline=False)[1], StagedJudging)
    engine, judging = stages(batch=True)
    assert isinstance(engine, BatchEngine) and isinstance(judging, PipelinedJudging)
    assert isinstance(judging.transports["openai:judge"], BatchJudgeTransport)
    # a batched judge while the models answer directly: one judge batch once generation is over
    engine, judging = stages(SUITE.replace("closed_qa: true", "closed_qa: true, batch: true"))
    assert isinstance(engine, DirectEngine) and isinstance(judging, StagedJudging)
    assert judging.transports is not None and isinstance(judging.transports["openai:judge"], BatchJudgeTransport)
