"""Which cached answers a run may reuse: the policy follows the model's identity.

- **Immutable identities** name fixed weights: `ft:` ids and dated snapshots on OpenAI
  (`gpt-4o-2024-08-06`, `gpt-4-0613`), `hf:` models (their fingerprint hashes the files),
  `predictions:` files (hashed). Their answers are reused whatever their age.
- **Mutable identities** can serve different weights tomorrow under the same name: OpenAI aliases
  (`gpt-4o-mini`) and any name on a custom endpoint (`openai:<name>` on vLLM, Ollama...). Their
  answers are reused only
  - when resuming an interrupted run of the same suite and model (answers since it started),
  - or when younger than the model's `cache: {max_age: ...}` (default `DEFAULT_MAX_AGE_S`),
  - or without an age limit when the entry pins `version: <label>`, which is part of the cache
    key, so a new label asks everything again.
- Where the server describes the model (`GET /v1/models/{id}`: vLLM's `root` and `parent`), the
  description is part of the cache key too, so a redeploy that changes the served paths re-asks.

Judge verdicts follow the same policy by the judge's identity (`gpt-4o` is an alias: a verdict
it gave last week is not reused by default), with the same resume rule: the verdicts an
interrupted run of the same suite received from the same judge are reused whatever their age.

What was reused is always stated: count and oldest age per model and judge, on the console, in
run.json (`models[].cache`, `judge.cache`) and in the reports.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from harness.models.base import GenerationResponse, ModelAdapter
from harness.models.resolve import ResolvedModel
from harness.run.plan import WorkItem

DEFAULT_MAX_AGE_S = 3600.0
_DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")  # gpt-4o-2024-08-06, gpt-4-0613, gpt-3.5-turbo-0125
_OPENAI_HOST = "api.openai.com"


@dataclass(frozen=True)
class Identity:
    """How far a model's cached answers can be trusted."""

    mutable: bool
    why: str  # one phrase: "an ft: id", "a name on a custom endpoint", ...
    max_age_s: float | None  # None: no age limit
    version: str | None = None

    def policy(self, what: str = "answers") -> str:
        """The rule in one phrase; `what` is what is cached (answers, or a judge's judgments)."""
        if not self.mutable:
            return f"{self.why}: cached {what} reused whatever their age"
        if self.version is not None:
            return f"{self.why}, pinned to version '{self.version}': {what} of that version reused"
        if self.max_age_s == 0:
            return f"{self.why}: cached {what} reused only to resume an interrupted run"
        return f"{self.why}: cached {what} reused up to {format_age(self.max_age_s or 0)} old, or to resume"


def identity_of(model: ResolvedModel, adapter: ModelAdapter) -> Identity:
    """Classify a model's identity from its spec and endpoint."""
    spec, config = model.spec, model.config
    if spec.kind == "hf":
        return Identity(False, "an hf: model (weights hashed)", None)
    if spec.kind == "predictions":
        return Identity(False, "a predictions file (hashed)", None)
    if spec.kind == "run":
        return Identity(False, "a recorded run", None)
    base_url = str(getattr(adapter, "base_url", "") or "")
    official = _OPENAI_HOST in base_url
    if official and spec.fine_tuned is not None:
        return Identity(False, "an ft: id", None)
    if official and _DATED.search(spec.target):
        return Identity(False, "a dated snapshot", None)
    why = "an alias on api.openai.com" if official else "a name on a custom endpoint"
    if config.version is not None:
        return Identity(True, why, None, config.version)
    max_age = config.cache.max_age if config.cache is not None and config.cache.max_age is not None else DEFAULT_MAX_AGE_S
    return Identity(True, why, max_age)


def cache_fingerprint(adapter: ModelAdapter, identity: Identity, description: dict[str, Any] | None) -> str:
    """The adapter's fingerprint plus the pinned version and the server's description, if any."""
    parts = [adapter.fingerprint]
    if identity.version is not None:
        parts.append(f"version={identity.version}")
    if description:
        parts.append("served=" + orjson.dumps(description, option=orjson.OPT_SORT_KEYS).decode())
    return "|".join(parts)


def describe_server(adapter: ModelAdapter, identity: Identity) -> dict[str, Any] | None:
    """The server's description of a mutable model, when the adapter can ask for one."""
    describe = getattr(adapter, "server_description", None)
    if not identity.mutable or describe is None or _OPENAI_HOST in str(getattr(adapter, "base_url", "")):
        return None  # OpenAI's own descriptions say nothing about the weights behind an alias
    described: dict[str, Any] | None = describe()
    return described


def format_age(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h`, `2 d`."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} d".replace(".0 d", " d")


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class Resume:
    """An earlier run of the same suite that did not finish (interrupted, killed, aborted, or with
    batches that expired or were cancelled): its answers may be reused whatever their age."""

    run_id: str
    started: float  # epoch seconds
    fingerprints: dict[str, str]  # model name -> cache fingerprint it used
    judge_fingerprints: dict[str, str] = field(default_factory=dict)  # judge name -> cache fingerprint


def find_resumable(output_dir: Path, suite_sha256: str) -> Resume | None:
    """The newest run directory of this suite file under `output_dir` that did not complete."""
    if not output_dir.is_dir():
        return None
    for run_json in sorted(output_dir.glob("*/run.json"), key=lambda p: p.parent.name, reverse=True):
        try:
            run = orjson.loads(run_json.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if (run.get("suite") or {}).get("sha256") != suite_sha256:
            continue
        if run.get("status") == "complete" and not _unfinished_batches(run):
            return None  # the newest run of this suite finished: nothing to resume
        started = _epoch(run.get("started_at"))
        if started is None:
            return None
        fingerprints = {m["name"]: m.get("fingerprint", "") for m in run.get("models") or [] if "name" in m}
        return Resume(str(run.get("run_id") or run_json.parent.name), started, fingerprints, judge_fingerprints(run))
    return None


def _unfinished_batches(run: dict[str, Any]) -> bool:
    """Whether a run's Batch API batches left requests unanswered (expired, cancelled, failed): the
    run completed, but running the same command again is how it is finished, so it resumes it."""
    batches = (run.get("batches") or {}).get("list") or []
    return any(batch.get("status") in ("expired", "cancelled", "failed") for batch in batches)


def judge_fingerprints(run: dict[str, Any]) -> dict[str, str]:
    """Judge name -> the cache fingerprint a run's judges used (run.json `judge`)."""
    judge = run.get("judge") or {}
    found: dict[str, str] = {}
    panel = (judge.get("panel") or {}).get("judges") or []
    for entry in panel:
        if entry.get("name") and entry.get("fingerprint"):
            found[str(entry["name"])] = str(entry["fingerprint"])
    if not panel and judge.get("model") and judge.get("fingerprint"):
        found[str(judge["model"])] = str(judge["fingerprint"])
    return found


@dataclass
class ModelReuse:
    """What one model got from the cache: the run.json `cache` entry."""

    identity: Identity
    fingerprint: str
    description: dict[str, Any] | None = None
    reused: int = 0
    oldest_created: float | None = None
    too_old: int = 0  # cached but past the policy: asked again
    resumed_from: str | None = None
    resume: Resume | None = None  # an interrupted run of the same suite that used this fingerprint

    def admit(self, created: float, now: float) -> bool:
        """Whether an entry cached at `created` may be reused now; counts what was reused and what was too old."""
        identity, resume = self.identity, self.resume
        resuming = resume is not None and created >= resume.started - 1.0
        fresh = identity.max_age_s is None or now - created <= identity.max_age_s
        if not fresh and not resuming:
            self.too_old += 1
            return False
        if resuming and resume is not None:
            self.resumed_from = resume.run_id
        self.reused += 1
        self.oldest_created = created if self.oldest_created is None else min(self.oldest_created, created)
        return True

    def as_dict(self, now: float, what: str = "answers") -> dict[str, Any]:
        return {
            "identity": "mutable" if self.identity.mutable else "immutable",
            "why": self.identity.why,
            "policy": self.identity.policy(what),
            "max_age_s": self.identity.max_age_s,
            "version": self.identity.version,
            "served": self.description,
            "reused": self.reused,
            "oldest_age_s": None if self.oldest_created is None else round(now - self.oldest_created, 1),
            "not_reused_too_old": self.too_old,
            "resumed_from": self.resumed_from,
        }

    def line(self, name: str, total: int | None, now: float, what: str = "answers") -> str | None:
        """The console line, or None when nothing was cached for the model (`what`: answers, judgments)."""
        if not self.reused and not self.too_old:
            return None
        parts = []
        if self.reused:
            oldest = format_age(now - (self.oldest_created or now))
            count = f"{self.reused} of {total}" if total is not None else str(self.reused)
            parts.append(f"{count} {what} of '{name}' from the cache (oldest {oldest})")
            if self.resumed_from:
                parts.append(f"resuming {self.resumed_from}")
        if self.too_old:
            parts.append(f"{self.too_old} cached {what} of '{name}' too old to reuse, asked again")
        return "cache: " + "; ".join(parts) + f" [{self.identity.policy(what)}]"


def judge_cache_entries(reuse: dict[str, ModelReuse], now: float) -> dict[str, Any]:
    """run.json `judge.cache`: per judge, the verdicts reused from the cache and the policy that allowed them."""
    return {name: state.as_dict(now, "judgments") for name, state in reuse.items()}


def select_reusable(
    work: Sequence[WorkItem],
    hits: dict[str, GenerationResponse],
    created: dict[str, float],
    reuse: dict[str, ModelReuse],
    resume: Resume | None,
    now: float | None = None,
) -> dict[str, GenerationResponse]:
    """The hits the policy allows, counting per model what was reused and what was too old."""
    now = time.time() if now is None else now
    for name, state in reuse.items():
        if resume is not None and resume.fingerprints.get(name) == state.fingerprint:
            state.resume = resume
    allowed: dict[str, GenerationResponse] = {}
    for item in work:
        if item.key is None or item.key not in hits:
            continue
        if reuse[item.model].admit(created.get(item.key, now), now):
            allowed[item.key] = hits[item.key]
    return allowed
