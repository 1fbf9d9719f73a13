"""Generation and judging through the Batch API, end to end with the real openai client."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RunError, UsageError
from harness.run.batch import files
from harness.run.store import load_run
from harness.testing import BatchScript, FakeOpenAIServer, Fault
from tests.run.batch.conftest import by_model, comparable, run, verdicts


def test_batch_run_equals_direct_run(suite: Path, server: FakeOpenAIServer, isolated_environment: Path) -> None:
    direct = run(suite, use_cache=False)
    direct_requests = server.request_count
    assert direct_requests == 12 + 12  # 2 models x 6 cases, 6 judged items x 2 orders

    log = io.StringIO()
    batched = run(suite, log, batch=True, use_cache=False, progress=True)
    assert server.request_count == direct_requests  # nothing went direct
    assert comparable(batched.records) == comparable(direct.records)
    assert batched.summary["pairwise"] == direct.summary["pairwise"]
    assert verdicts(load_run(batched.run_dir).judgments) == verdicts(load_run(direct.run_dir).judgments)

    sent = by_model(server)
    assert {model: len(bodies) for model, bodies in sent.items()} == {"cand": 6, "base": 6, "judge": 12}
    created = server.batch_api.created if server.batch_api else []
    assert len(created) == 3  # one batch per model, one for the judge (both orders)
    info = json.loads((batched.run_dir / "run.json").read_text())
    assert info["batches"]["created"] == 3 and info["batches"]["reattached"] == 0
    assert {b["kind"] for b in info["batches"]["list"]} == {"generate", "judge"}
    assert all(b["collected"] for b in info["batches"]["list"])
    assert [m["batch"] for m in info["models"]] == [True, True] and info["judge"]["batch"] is True
    assert all(r["batch"] in created for r in batched.records) and all(r["batch"] is None for r in direct.records)
    # the progress shows the batches' statuses and request counts
    shown = log.getvalue()
    for status in ("validating", "in_progress", "finalizing", "completed"):
        assert f"(6 requests) {status}" in shown
    assert "batch batch-" in shown and "6/6 done" in shown


def test_batch_answers_are_cached_and_marked(suite: Path, server: FakeOpenAIServer, isolated_environment: Path) -> None:
    first = run(suite, batch=True)
    again = run(suite, batch=True)  # everything from the caches: no new batch
    assert len(server.batch_api.created) == 3  # type: ignore[union-attr]
    assert all(r["cached"] for r in again.records)
    assert [r["batch"] for r in again.records] == [r["batch"] for r in first.records]  # still priced as batched
    assert verdicts(load_run(again.run_dir).judgments) == verdicts(load_run(first.run_dir).judgments)


def test_per_model_and_judge_settings(suite: Path, server: FakeOpenAIServer, tmp_path: Path) -> None:
    suite.write_text(
        suite.read_text() + "models:\n  cand: {spec: 'openai:cand', batch: true}\n  base: 'openai:base'\n"
        "baseline: base\njudge: {model: 'openai:judge'}\n", encoding="utf-8")
    outcome = run(suite, models=["cand"], baseline=None, judge=None, use_cache=False)
    assert set(by_model(server)) == {"cand"}  # base and the judge went direct
    assert {body["model"] for body in server.requests} == {"base", "judge"}
    assert outcome.summary["pairwise"]["cand"]["wins"] == 4

    server.reset()
    suite.write_text(suite.read_text().replace("judge: {model: 'openai:judge'}", "judge: {model: 'openai:judge', batch: true}"))
    run(suite, models=["cand"], baseline=None, judge=None, use_cache=False)
    assert set(by_model(server)) == {"cand", "judge"}


def test_requests_are_split_by_the_api_limits(suite: Path, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert server.batch_api is not None
    server.batch_api.max_requests = 4  # the server enforces the same limits: a batch over them would fail
    monkeypatch.setattr(files, "LIMITS", files.BatchLimits(max_requests=4, max_bytes=10**9))
    outcome = run(suite, batch=True, use_cache=False)
    assert outcome.status == "complete"
    sizes: dict[str, list[int]] = {}
    for batch in server.batch_api.batches.values():
        sizes.setdefault(batch.lines[0]["body"]["model"], []).append(len(batch.lines))
    assert sizes["cand"] == sizes["base"] == [4, 2]
    assert sum(sizes["judge"]) == 12 and max(sizes["judge"]) == 4  # both orders of 6 items, each batch within the limit
    assert all(batch.status == "completed" for batch in server.batch_api.batches.values())

    line = files.BatchRequest("k", "l", {"model": "m", "messages": [{"role": "user", "content": "x" * 50}]}).line()
    server.batch_api.max_requests = 50_000
    server.batch_api.max_bytes = 2 * len(line) + 10
    monkeypatch.setattr(files, "LIMITS", files.BatchLimits(max_requests=50_000, max_bytes=2 * len(line) + 10))
    server.reset()
    before = len(server.batch_api.batches)
    run(suite, batch=True, use_cache=False, baseline=None, judge=None)
    new = list(server.batch_api.batches.values())[before:]
    assert len(new) >= 3 and all(batch.status == "completed" for batch in new)


def test_a_request_too_big_for_any_batch_file_is_an_error_not_a_rejected_batch(
    suite: Path, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "LIMITS", files.BatchLimits(max_requests=100, max_bytes=150))
    outcome = run(suite, batch=True, use_cache=False, baseline=None, judge=None)
    assert {r["error"]["kind"] for r in outcome.records} == {"batch_failed"}
    assert "larger than a batch file may be" in outcome.records[0]["error"]["message"]
    assert server.batch_api is not None and not server.batch_api.batches


def test_expired_batch_keeps_what_it_answered_and_a_rerun_sends_the_rest(
    suite: Path, server: FakeOpenAIServer, isolated_environment: Path
) -> None:
    assert server.batch_api is not None
    server.batch_api.policy = lambda index, lines: BatchScript(outcome="expired", answered=4) if index == 0 else None
    first = run(suite, batch=True, baseline=None, judge=None)
    assert first.status == "complete"
    answered = [r for r in first.records if r["error"] is None]
    expired = [r for r in first.records if r["error"] is not None]
    assert [r["case_id"] for r in answered] == ["q1", "q2", "q3", "q4"]
    assert {r["error"]["kind"] for r in expired} == {"batch_expired"}
    assert "run again to send it" in expired[0]["error"]["message"]
    assert first.summary["models"]["openai:cand"]["errors_by_kind"] == {"batch_expired": 2}

    second = run(suite, batch=True, baseline=None, judge=None)  # the same command: only the expired two go out
    assert second.status == "complete" and all(r["error"] is None for r in second.records)
    assert [len(batch.lines) for batch in server.batch_api.batches.values()] == [6, 2]
    assert sum(1 for r in second.records if r["cached"]) == 4


def test_expired_requests_can_be_sent_directly(suite: Path, server: FakeOpenAIServer, isolated_environment: Path) -> None:
    assert server.batch_api is not None
    server.batch_api.policy = lambda index, lines: BatchScript(outcome="expired", answered=1)
    run(suite, batch=True, baseline=None, judge=None)
    second = run(suite, baseline=None, judge=None)  # without --batch
    assert all(r["error"] is None for r in second.records)
    assert server.request_count == 5 and len(server.batch_api.batches) == 1


def test_a_judge_batch_that_expires_leaves_invalid_items_for_the_next_run(
    suite: Path, server: FakeOpenAIServer, isolated_environment: Path
) -> None:
    assert server.batch_api is not None

    def policy(index: int, lines: list[dict[str, Any]]) -> BatchScript | None:
        if lines[0]["body"]["model"] == "judge" and index < 4:
            return BatchScript(outcome="expired", answered=10)
        return None

    server.batch_api.policy = policy
    first = run(suite, batch=True)
    block = first.summary["pairwise"]["openai:cand"]
    assert block["invalid"] == 1 and block["n"] == 5  # the item whose second order expired
    second = run(suite, batch=True)
    assert second.summary["pairwise"]["openai:cand"]["invalid"] == 0
    assert second.summary["pairwise"]["openai:cand"]["wins"] == 4
    judge_batches = [b for b in server.batch_api.batches.values() if b.lines[0]["body"]["model"] == "judge"]
    assert [len(b.lines) for b in judge_batches] == [12, 2]


def test_failed_validation_stops_the_run_with_the_api_error_lines(suite: Path, server: FakeOpenAIServer) -> None:
    assert server.batch_api is not None
    server.batch_api.policy = lambda index, lines: BatchScript(
        outcome="failed", errors=[{"code": "model_not_found", "message": "The model 'cand' does not exist", "line": 1}])
    with pytest.raises(RunError) as caught:
        run(suite, batch=True, baseline=None, judge=None, use_cache=False)
    message = str(caught.value)
    assert "model 'openai:cand': batch batch-" in message and "failed validation" in message
    assert "line 1: model_not_found: The model 'cand' does not exist" in message
    records = load_run(caught.value.run_dir).results  # type: ignore[attr-defined]
    assert {r["error"]["kind"] for r in records} == {"batch_failed"}


def test_failed_request_lines_are_per_case_errors(suite: Path, server: FakeOpenAIServer) -> None:
    server.faults = lambda index, body: Fault(status=400, message="context too long", error_code="context_length_exceeded") \
        if "Question 3" in body["messages"][-1]["content"] else None
    outcome = run(suite, batch=True, baseline=None, judge=None, use_cache=False)
    failed = [r for r in outcome.records if r["error"] is not None]
    assert [(r["case_id"], r["error"]["kind"]) for r in failed] == [("q3", "context_length")]


def test_an_endpoint_without_a_batch_api_is_one_line(suite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(batch_api=None) as bare:
        monkeypatch.setenv("OPENAI_BASE_URL", bare.base_url)
        with pytest.raises(UsageError, match=r"model 'openai:cand': http://127\.0\.0\.1:\d+/v1 has no Batch API") as caught:
            run(suite, batch=True, baseline=None, judge=None)
        assert "\n" not in str(caught.value)
        assert bare.request_count == 0
    assert not (suite.parent / "reports").exists()  # refused before the run directory


def test_models_that_cannot_batch_are_refused(suite: Path, server: FakeOpenAIServer) -> None:
    with pytest.raises(UsageError, match=r"model 'hf:some/model' \(hf:some/model\) cannot use the Batch API.*drop --batch"):
        run(suite, batch=True, models=["hf:some/model"], baseline=None, judge=None)
    preds = suite.parent / "preds.jsonl"
    preds.write_text("".join(f'{{"id": "q{i}", "output": "GOOD {i}"}}\n' for i in range(1, 7)))
    outcome = run(suite, batch=True, models=[f"predictions:{preds}"], baseline="openai:base")
    assert outcome.status == "complete"  # saved predictions send nothing: --batch leaves them be
    assert set(by_model(server)) == {"base", "judge"}


def test_the_batch_store_records_work_items_before_polling(suite: Path, server: FakeOpenAIServer,
                                                           isolated_environment: Path) -> None:
    run(suite, batch=True, baseline=None, judge=None)
    db = sqlite3.connect(isolated_environment / "cache.sqlite")
    jobs = db.execute("SELECT batch_id, kind, model, requests, status, collected FROM batch_jobs").fetchall()
    assert len(jobs) == 1 and jobs[0][1:5] == ("generate", "openai:cand", 6, "completed") and jobs[0][5] is not None
    labels = [row[0] for row in db.execute("SELECT label FROM batch_requests ORDER BY rowid")]
    assert labels == [f"openai:cand/q{i}#0" for i in range(1, 7)]
    assert {row[0] for row in db.execute("SELECT outcome FROM batch_requests")} == {"ok"}
    db.close()


def test_the_cost_block_prices_batched_answers_at_the_batch_rate(suite: Path, server: FakeOpenAIServer) -> None:
    suite.write_text(suite.read_text() + "cost:\n  prices:\n    'openai:cand': {input: 2.0, output: 8.0}\n"
                     "    'openai:base': {input: 2.0, output: 8.0}\n", encoding="utf-8")
    direct = run(suite, use_cache=False, judge=None, baseline=None, models=["openai:cand", "openai:base"])
    batched = run(suite, use_cache=False, judge=None, baseline=None, models=["openai:cand", "openai:base"], batch=True)
    online = direct.summary["cost"]["models"]["openai:cand"]
    cheap = batched.summary["cost"]["models"]["openai:cand"]
    assert batched.summary["models"]["openai:cand"]["batch"]["answered"] == 6
    assert cheap["batched"] == 6 and cheap["run"] == pytest.approx(online["run"] / 2)
    assert cheap["per_request"] == pytest.approx(online["per_request"])  # projections are online prices
    assert "batched" not in online
    assert any("6 of 6 answers came through the Batch API" in note for note in batched.summary["cost"]["notes"])
    html = (batched.run_dir / "report.html").read_text()
    assert "6 answers batched, at half the suite&#39;s cost.prices" in html


def test_judging_starts_while_other_generation_batches_run(suite: Path, server: FakeOpenAIServer,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Each model's answers go in two batches; the second ones stay in progress for an hour. The items
    answered by the first ones are judged, in a judge batch, before the others have ended."""
    assert server.batch_api is not None
    api = server.batch_api
    monkeypatch.setattr(files, "LIMITS", files.BatchLimits(max_requests=3, max_bytes=10**9))
    slow: list[str] = []

    def policy(index: int, lines: list[dict[str, Any]]) -> BatchScript | None:
        second_half = lines[0]["body"]["model"] != "judge" and "Question 4" in lines[0]["body"]["messages"][-1]["content"]
        return BatchScript(in_progress_s=3600) if second_half else None

    api.policy = policy
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(run(suite, batch=True, use_cache=False)))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not any(b.lines[0]["body"]["model"] == "judge" and b.status == "completed" for b in list(api.batches.values())):
            assert time.monotonic() < deadline, "no judge batch while generation batches ran"
            time.sleep(0.01)
        slow = [b.id for b in api.batches.values() if b.script.in_progress_s]
        assert len(slow) == 2 and all(api.batches[b].status == "in_progress" for b in slow)
        judged = [line["body"]["messages"][-1]["content"] for b in list(api.batches.values())
                  for line in b.lines if line["body"]["model"] == "judge"]
        assert judged and all(any(f"Question {n}" in text for n in (1, 2, 3)) for text in judged)
    finally:
        api.clock.advance(3600)
        worker.join(60)
    assert outcome and outcome[0].status == "complete"
    assert outcome[0].summary["pairwise"]["openai:cand"]["wins"] == 4


def test_the_rerun_after_an_expired_batch_resumes_it_whatever_its_age(
    suite: Path, server: FakeOpenAIServer, isolated_environment: Path
) -> None:
    """`openai:cand` is a mutable name (cached answers reused for an hour), but a batch may expire a
    day later: the same command finishing that run resumes it and keeps what the batch answered."""
    assert server.batch_api is not None
    server.batch_api.policy = lambda index, lines: BatchScript(outcome="expired", answered=4) if index == 0 else None
    first = run(suite, batch=True, baseline=None, judge=None)
    assert first.status == "complete"
    two_days = 2 * 86400
    with sqlite3.connect(isolated_environment / "cache.sqlite") as db:
        db.execute("UPDATE responses SET created = created - ?", (two_days,))
    info = json.loads((first.run_dir / "run.json").read_text())
    started = datetime.fromisoformat(info["started_at"]) - timedelta(seconds=two_days)
    info["started_at"] = started.isoformat()
    (first.run_dir / "run.json").write_text(json.dumps(info))

    log = io.StringIO()
    second = run(suite, log, batch=True, baseline=None, judge=None)
    assert all(r["error"] is None for r in second.records)
    assert [len(batch.lines) for batch in server.batch_api.batches.values()] == [6, 2]  # only the expired two
    assert sum(1 for r in second.records if r["cached"]) == 4
    assert f"resuming {info['run_id']}" in log.getvalue()
