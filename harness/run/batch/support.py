"""Before a run: which models (and whether the judge) use the Batch API, and whether their endpoints have one.

`--batch` covers every model that sends requests (saved predictions and recorded runs send
none) and the judge; `batch: true` in a model's entry or in `judge:` covers that one. A model
that cannot batch (`hf:`) is refused in one line, and each endpoint is asked once
(`batches.list(limit=1)`) so that a server without `/v1/batches` is named before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai

from harness.errors import RunError, UsageError
from harness.judging.plan import JudgePlan
from harness.models.base import ModelAdapter
from harness.models.openai_adapter import OpenAIAdapter, redact_url
from harness.models.resolve import ResolvedModel
from harness.run.batch.client import Polling

SENDS_NOTHING = ("predictions", "run")  # kinds that answer from files: nothing to batch
PROBE_TIMEOUT_S = 30.0


def batch_choices(models: Sequence[ResolvedModel], judge_plan: JudgePlan | None, everything: bool) -> tuple[set[str], bool]:
    """(names of the models that batch, whether the judge does); UsageError for a model that cannot."""
    Polling.from_env()  # a bad $HARNESS_BATCH_POLL is a usage error, before anything is sent
    batched: set[str] = set()
    for model in models:
        wanted = model.config.batch or (everything and model.spec.kind not in SENDS_NOTHING)
        if not wanted:
            continue
        if model.spec.kind != "openai":
            raise UsageError(
                f"model '{model.name}' ({model.spec.raw}) cannot use the Batch API: only OpenAI-compatible endpoints "
                f"have one; drop {'--batch' if everything and not model.config.batch else 'batch: true'} for it"
            )
        batched.add(model.name)
    judge = judge_plan is not None and (everything or judge_plan.config.batch)
    for member in judge_plan.judges if judge_plan is not None and judge else []:  # the one judge, or each of a panel
        if member.spec.kind != "openai":
            raise UsageError(
                f"judge '{member.name}' ({member.spec.raw}) cannot use the Batch API: only OpenAI-compatible "
                f"endpoints have one; drop {'--batch' if everything and not judge_plan.config.batch else 'judge: {batch: true}'}"  # type: ignore[union-attr]
            )
    return batched, judge


def check_endpoints(adapters: Sequence[tuple[str, ModelAdapter]]) -> None:
    """Ask each endpoint once whether it has a Batch API (a UsageError naming the model when not)."""
    asked: set[tuple[str, str]] = set()
    for who, adapter in adapters:
        if not isinstance(adapter, OpenAIAdapter):
            continue
        where = redact_url(adapter.base_url)
        if (where, adapter.api_key_env) in asked:
            continue
        asked.add((where, adapter.api_key_env))
        client = adapter.sync_client(timeout=min(adapter.timeout, PROBE_TIMEOUT_S))
        try:
            client.batches.list(limit=1)
        except openai.APIStatusError as exc:
            if exc.status_code in (404, 405, 501):
                raise UsageError(
                    f"{who}: {where} has no Batch API (GET /batches answered {exc.status_code}); "
                    "run it without --batch / batch: true"
                ) from None
            if exc.status_code in (401, 403):
                raise RunError(f"{who}: {where} rejected the API key (HTTP {exc.status_code}); "
                               f"check {adapter.api_key_env}") from None
            raise RunError(f"{who}: {where} answered HTTP {exc.status_code} when asked for its batches") from None
        except openai.APIConnectionError:
            raise RunError(f"{who}: the endpoint {where} is unreachable; is the server running, and are "
                           "OPENAI_BASE_URL / base_url right?") from None
        finally:
            client.close()
