"""Judge verdicts follow the cache reuse policy of answers: a judge behind a mutable name (here
`openai:judge` on a custom endpoint) is read from the cache only within its max age, for its
pinned version, or to resume an interrupted run; what was reused is stated. Judged beside
generation (pipelined, the default here), after it (staged), or through the Batch API alike."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from harness.judging.caller import JUDGE_TABLE
from harness.run.reuse import DEFAULT_MAX_AGE_S
from harness.testing import FakeOpenAIServer
from tests.report.conftest import World, suite_text

CASES = 4
# Per case: the pairwise comparison in both orders, and a rubric grade of each model.
JUDGE_CALLS = CASES * 2 + CASES * 2


def run(suite: Path, tmp_path: Path, **options: Any) -> tuple[RunOutcome, str]:
    printed = io.StringIO()
    outcome = run_suite(suite, RunOptions(output_dir=tmp_path / "reports", progress=False, max_retries=0, **options),
                        Console(file=printed, width=300))
    return outcome, printed.getvalue()


def judge_requests(server: FakeOpenAIServer) -> int:
    """Judge requests answered directly or through batches."""
    batched = server.batch_api.answered if server.batch_api is not None else []
    return sum(1 for body in [*server.requests, *batched] if body["model"] == "judge")


def run_json(outcome: RunOutcome) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((outcome.run_dir / "run.json").read_bytes())
    return data


def age_judgments(cache_dir: Path, seconds: float) -> None:
    with sqlite3.connect(cache_dir / "cache.sqlite") as db:
        db.execute(f"UPDATE {JUDGE_TABLE} SET created = created - ?", (seconds,))


class Regraded(World):
    """The same world, with a redeployed judge that grades every answer 5."""

    def judge(self, body: dict[str, Any]) -> str:
        reply = super().judge(body)
        return reply.replace('"score": 8', '"score": 5').replace('"score": 3', '"score": 5')


@pytest.fixture
def judged_once(tmp_path: Path, fake_openai: FakeOpenAIServer, isolated_environment: Path) -> Path:
    fake_openai.responder = World()
    suite = tmp_path / "suite.yaml"
    suite.write_text(suite_text(fake_openai.base_url, CASES), encoding="utf-8")
    outcome, _ = run(suite, tmp_path)
    assert judge_requests(fake_openai) == JUDGE_CALLS
    assert outcome.summary["rubric"]["tuned"]["mean"] == 8.0
    fake_openai.responder = Regraded()  # the judge's name and port stay; its verdicts change
    fake_openai.reset()
    return suite


MODES = {"pipelined": {}, "staged": {"pipeline": False}, "batch": {"batch": True}}


@pytest.mark.parametrize("mode", list(MODES))
def test_a_mutable_judge_reuses_only_young_verdicts_and_says_so(
    judged_once: Path, tmp_path: Path, fake_openai: FakeOpenAIServer, isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch, mode: str,
) -> None:
    monkeypatch.setenv("HARNESS_BATCH_POLL", "0.005,0.02")  # the fake Batch API's time runs fast
    options = MODES[mode]
    outcome, printed = run(judged_once, tmp_path, **options)  # right after: within the default hour
    assert judge_requests(fake_openai) == 0
    assert f"cache: {JUDGE_CALLS} judgments of 'judge' from the cache (oldest " in printed
    assert "a name on a custom endpoint: cached judgments reused up to 1 h old, or to resume" in printed
    entry = run_json(outcome)["judge"]["cache"]["judge"]
    assert (entry["identity"], entry["reused"], entry["max_age_s"]) == ("mutable", JUDGE_CALLS, DEFAULT_MAX_AGE_S)
    assert f"judge judge: {JUDGE_CALLS} judgments (oldest" in (outcome.run_dir / "summary.md").read_text()
    assert "judgments reused from the cache (oldest" in (outcome.run_dir / "report.html").read_text()

    age_judgments(isolated_environment, DEFAULT_MAX_AGE_S + 60)  # past the policy: asked again
    outcome, printed = run(judged_once, tmp_path, **options)
    assert judge_requests(fake_openai) == JUDGE_CALLS
    assert outcome.summary["rubric"]["tuned"]["mean"] == 5.0  # the redeployed judge's grades, not the old ones
    assert f"{JUDGE_CALLS} cached judgments of 'judge' too old to reuse, asked again" in printed
    entry = run_json(outcome)["judge"]["cache"]["judge"]
    assert (entry["reused"], entry["not_reused_too_old"]) == (0, JUDGE_CALLS)


def test_a_pinned_judge_version_reuses_its_verdicts_and_a_new_one_asks_again(
    tmp_path: Path, fake_openai: FakeOpenAIServer, isolated_environment: Path
) -> None:
    fake_openai.responder = World()
    suite = tmp_path / "suite.yaml"
    pinned = suite_text(fake_openai.base_url, CASES).replace("base_url: '" + fake_openai.base_url + "'}\nbaseline",
                                                             "base_url: '" + fake_openai.base_url + "', version: v1}\nbaseline")
    assert "version: v1" in pinned
    suite.write_text(pinned, encoding="utf-8")
    run(suite, tmp_path)
    fake_openai.reset()
    age_judgments(isolated_environment, 30 * 86400)  # a month old: the pinned version still holds
    outcome, printed = run(suite, tmp_path)
    assert judge_requests(fake_openai) == 0
    assert "pinned to version 'v1': judgments of that version reused" in printed
    assert run_json(outcome)["judge"]["fingerprint"].endswith("|version=v1")

    suite.write_text(pinned.replace("version: v1", "version: v2"), encoding="utf-8")
    run(suite, tmp_path)
    assert judge_requests(fake_openai) == JUDGE_CALLS  # a new label asks every verdict again


def test_an_interrupted_run_resumes_its_judgments_whatever_their_age(
    judged_once: Path, tmp_path: Path, fake_openai: FakeOpenAIServer, isolated_environment: Path
) -> None:
    # The first run, as if it had been killed while judging two hours ago: its verdicts are older
    # than the hour a mutable judge allows, but were received by the run being resumed.
    (first,) = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    info = orjson.loads((first / "run.json").read_bytes())
    info["status"] = "interrupted"
    info["started_at"] = "2000-01-01T00:00:00+00:00"  # long before any cache entry
    (first / "run.json").write_bytes(orjson.dumps(info))
    age_judgments(isolated_environment, 2 * 3600)
    outcome, printed = run(judged_once, tmp_path)
    assert judge_requests(fake_openai) == 0  # nothing judged twice
    assert f"resuming {info['run_id']}" in printed
    entry = run_json(outcome)["judge"]["cache"]["judge"]
    assert (entry["reused"], entry["resumed_from"]) == (JUDGE_CALLS, info["run_id"])
