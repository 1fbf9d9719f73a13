"""Cached answers follow the model's identity: a redeployed endpoint behind the same name and
port is not answered from stale cache entries beyond the documented policy, and reuse is stated."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from harness.errors import RunError
from harness.models.base import GenerationParams
from harness.models.registry import AdapterSettings, build_adapters
from harness.models.resolve import resolve_model
from harness.run.reuse import DEFAULT_MAX_AGE_S, format_age, identity_of
from harness.suite.schema import ModelConfig
from harness.testing import FakeOpenAIServer, Fault

CASES = 8


def write_suite(tmp_path: Path, server: FakeOpenAIServer, extra: str = "") -> Path:
    suite = tmp_path / "suite.yaml"
    cases = "".join(f"  - {{id: c{i}, input: 'question {i}', required_patterns: [v2]}}\n" for i in range(CASES))
    suite.write_text(f"models:\n  tuned: {{spec: 'openai:tuned', base_url: '{server.base_url}'{extra}}}\ncases:\n{cases}")
    return suite


def run(suite: Path, tmp_path: Path, **options: Any) -> tuple[RunOutcome, str]:
    printed = io.StringIO()
    outcome = run_suite(suite, RunOptions(output_dir=tmp_path / "reports", progress=False, max_retries=0, **options),
                        Console(file=printed, width=300))
    return outcome, printed.getvalue()


def cache_entry(outcome: RunOutcome) -> dict[str, Any]:
    run_json = orjson.loads((outcome.run_dir / "run.json").read_bytes())
    entry: dict[str, Any] = run_json["models"][0]["cache"]
    return entry


def age_cache(cache_dir: Path, seconds: float) -> None:
    with sqlite3.connect(cache_dir / "cache.sqlite") as db:
        db.execute("UPDATE responses SET created = created - ?", (seconds,))


@pytest.fixture
def redeployed(tmp_path: Path, fake_openai: FakeOpenAIServer) -> Path:
    """A first run against v1 of the model; then v2 is served under the same name and port."""
    fake_openai.responder = lambda body: "answer from v1"
    suite = write_suite(tmp_path, fake_openai)
    outcome, _ = run(suite, tmp_path)
    assert outcome.summary["models"]["tuned"]["pass_rate"] == 0.0 and fake_openai.request_count == CASES
    fake_openai.responder = lambda body: "answer from v2"
    fake_openai.reset()
    return suite


def test_a_mutable_name_reuses_only_young_answers_and_says_so(
    redeployed: Path, tmp_path: Path, fake_openai: FakeOpenAIServer, isolated_environment: Path
) -> None:
    outcome, printed = run(redeployed, tmp_path)  # right after: within the default hour, stated
    assert fake_openai.request_count == 0
    assert f"cache: {CASES} of {CASES} answers of 'tuned' from the cache (oldest " in printed
    assert "a name on a custom endpoint: cached answers reused up to 1 h old, or to resume" in printed
    entry = cache_entry(outcome)
    assert (entry["identity"], entry["reused"], entry["max_age_s"]) == ("mutable", CASES, DEFAULT_MAX_AGE_S)
    assert 0 <= entry["oldest_age_s"] < 60
    assert f"From the cache: tuned: {CASES} answers (oldest" in (outcome.run_dir / "summary.md").read_text()
    page = (outcome.run_dir / "report.html").read_text()
    assert f"<dt>from the cache</dt><dd>{CASES} answers, oldest " in page  # the model card, with its policy
    assert f"<span>{CASES} answers reused from the cache (oldest " in page  # and the line under the title

    age_cache(isolated_environment, DEFAULT_MAX_AGE_S + 60)  # past the policy: asked again
    outcome, printed = run(redeployed, tmp_path)
    assert fake_openai.request_count == CASES
    assert outcome.summary["models"]["tuned"]["pass_rate"] == 1.0  # v2's answers, not v1's
    assert f"{CASES} cached answers of 'tuned' too old to reuse, asked again" in printed
    assert cache_entry(outcome)["reused"] == 0 and cache_entry(outcome)["not_reused_too_old"] == CASES


def test_max_age_zero_never_reuses(redeployed: Path, tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    suite = write_suite(tmp_path, fake_openai, ", cache: {max_age: 0}")
    outcome, _ = run(suite, tmp_path)
    assert fake_openai.request_count == CASES and outcome.summary["models"]["tuned"]["pass_rate"] == 1.0


def test_a_pinned_version_reuses_its_own_answers_only(
    tmp_path: Path, fake_openai: FakeOpenAIServer, isolated_environment: Path
) -> None:
    fake_openai.responder = lambda body: "answer from v1"
    v1 = write_suite(tmp_path, fake_openai, ", version: run-1")
    run(v1, tmp_path)
    assert fake_openai.request_count == CASES
    age_cache(isolated_environment, 30 * 86400)  # a month later: the pinned version still reuses
    fake_openai.reset()
    outcome, printed = run(v1, tmp_path)
    assert fake_openai.request_count == 0 and "pinned to version 'run-1'" in printed
    assert cache_entry(outcome)["version"] == "run-1"
    fake_openai.responder = lambda body: "answer from v2"
    v2 = write_suite(tmp_path, fake_openai, ", version: run-2")
    outcome, _ = run(v2, tmp_path)
    assert fake_openai.request_count == CASES  # a changed version asks everything again
    assert outcome.summary["models"]["tuned"]["pass_rate"] == 1.0


def test_the_servers_description_is_part_of_the_identity(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.descriptions["tuned"] = {"root": "/models/base", "parent": "/adapters/run-1"}
    fake_openai.responder = lambda body: "answer from v1"
    suite = write_suite(tmp_path, fake_openai)
    outcome, _ = run(suite, tmp_path)
    assert cache_entry(outcome)["served"] == {"root": "/models/base", "parent": "/adapters/run-1"}
    fake_openai.reset()
    fake_openai.descriptions["tuned"] = {"root": "/models/base", "parent": "/adapters/run-2"}  # retrained LoRA
    fake_openai.responder = lambda body: "answer from v2"
    outcome, _ = run(suite, tmp_path)
    assert fake_openai.request_count == CASES and cache_entry(outcome)["reused"] == 0
    assert outcome.summary["models"]["tuned"]["pass_rate"] == 1.0
    assert fake_openai.model_lookups == 2


def test_an_interrupted_run_resumes_whatever_the_max_age(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    # the endpoint dies after 5 answers: the run aborts (status aborted), its answers are cached
    fake_openai.responder = lambda body: "answer"
    fake_openai.faults = lambda index, body: Fault(status=500) if index >= 5 else None
    suite = write_suite(tmp_path, fake_openai, ", cache: {max_age: 0}, concurrency: 1")
    with pytest.raises(RunError):
        run(suite, tmp_path, max_errors="0")
    fake_openai.faults = None
    fake_openai.reset()
    outcome, printed = run(suite, tmp_path)
    assert fake_openai.request_count == CASES - 5  # resumed: nothing asked twice
    entry = cache_entry(outcome)
    assert entry["reused"] == 5 and entry["resumed_from"] is not None and "resuming" in printed
    fake_openai.reset()
    run(suite, tmp_path)  # that run completed: nothing left to resume, max_age 0 reuses nothing
    assert fake_openai.request_count == CASES


@pytest.mark.parametrize(
    ("spec", "base_url", "mutable", "why"),
    [
        ("ft:gpt-4o-mini-2024-07-18:acme:support:abc123", None, False, "an ft: id"),
        ("gpt-4o-2024-08-06", None, False, "a dated snapshot"),
        ("gpt-4-0613", None, False, "a dated snapshot"),
        ("gpt-4o-mini", None, True, "an alias on api.openai.com"),
        ("openai:gpt-4o-2024-08-06", "http://127.0.0.1:9/v1", True, "a name on a custom endpoint"),
        ("openai:my-lora", "http://127.0.0.1:9/v1", True, "a name on a custom endpoint"),
    ],
)
def test_identities(spec: str, base_url: str | None, mutable: bool, why: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config = {"spec": spec} if base_url is None else {"spec": spec, "base_url": base_url}
    model = resolve_model("m", {"m": ModelConfig.model_validate(config)}, GenerationParams(), Path.cwd())
    adapter = build_adapters([model], AdapterSettings())["m"]
    identity = identity_of(model, adapter)
    assert (identity.mutable, identity.why) == (mutable, why)
    assert (identity.max_age_s is None) == (not mutable)


def test_format_age() -> None:
    assert [format_age(s) for s in (5, 600, 3600, 5400, 2 * 86400)] == ["5 s", "10 min", "1 h", "1.5 h", "2 d"]
