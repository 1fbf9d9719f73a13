"""Model planning, before anything is sent: which models run, which is the baseline, who judges, with which templates.

Everything here fails fast with a one-line UsageError, so a misconfigured comparison never
spends a generation budget before it is found out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.errors import UsageError
from harness.judging.grading import applies
from harness.judging.plan import JudgePlan
from harness.judging.templates import JUDGE_KINDS, JudgeTemplate, load_configured_templates
from harness.models.base import GenerationParams
from harness.models.resolve import ResolvedModel, resolve_model, resolve_models, suite_model_name
from harness.suite.case import Case
from harness.suite.loader import Suite
from harness.suite.schema import JudgeConfig


def _suite_name(ref: str | None, suite: Suite) -> str | None:
    return suite_model_name(ref, suite.models) if ref is not None else None


def plan_models(
    suite: Suite, cases: Sequence[Case], model_refs: Sequence[str], baseline_ref: str | None, judge_ref: str | None
) -> tuple[list[ResolvedModel], JudgePlan | None]:
    """The run's models (the baseline added when missing) and the judging plan, if any."""
    config = suite.judge or JudgeConfig()
    judge_ref = judge_ref or config.model
    baseline_ref = baseline_ref or suite.baseline
    if model_refs:
        refs = list(model_refs)
    else:
        # A suite model that serves as judge is not also a model under test unless asked for.
        judge_name = _suite_name(judge_ref, suite)
        refs = [name for name in suite.models if name != judge_name or name == baseline_ref]
        if not refs and baseline_ref is None:
            raise UsageError("no model to run: pass --model SPEC or name models in the suite's `models:`")
    models = resolve_models(refs, suite.models, suite.generation, suite.directory) if refs else []

    baseline: str | None = None
    if baseline_ref is not None:
        resolved_baseline = resolve_model(baseline_ref, suite.models, suite.generation, suite.directory)
        baseline = resolved_baseline.name
        if baseline not in {m.name for m in models}:
            models.append(resolved_baseline)
    candidates = [m.name for m in models if m.name != baseline]

    pairwise_on = baseline is not None and config.template("pairwise") is not None
    if pairwise_on and not candidates:
        raise UsageError(f"nothing to compare with the baseline '{baseline}': add a candidate with --model SPEC")
    if judge_ref is None:
        if pairwise_on:
            raise UsageError(
                f"comparing with the baseline '{baseline}' needs a judge: pass --judge SPEC or set `judge: {{model: ...}}` "
                "in the suite (or `judge: {pairwise: false}` to only generate the baseline)"
            )
        return models, None

    wanted = {
        "pairwise": pairwise_on,
        "rubric": config.template("rubric") is not None and any(applies("rubric", c) for c in cases),
        "closed_qa": config.template("closed_qa") is not None and any(applies("closed_qa", c) for c in cases),
    }
    if not any(wanted.values()):
        raise UsageError(
            f"judge '{judge_ref}' has nothing to judge: add --baseline SPEC for a pairwise comparison, "
            "`rubric:` to cases, or `judge: {closed_qa: true}` for cases with references"
        )
    judge = resolve_model(judge_ref, suite.models, GenerationParams(), suite.directory)
    if judge.spec.kind == "predictions":
        raise UsageError(f"judge '{judge_ref}' is a predictions file; a judge must be a model that generates (openai, hf)")
    if config.concurrency is not None:
        judge = replace(judge, config=judge.config.model_copy(update={"concurrency": config.concurrency}))
    try:
        loaded = load_configured_templates(config, suite.directory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    templates: dict[str, JudgeTemplate] = {kind: loaded[kind] for kind in JUDGE_KINDS if wanted[kind]}
    return models, JudgePlan(judge, config, baseline, candidates if pairwise_on else [], [m.name for m in models], templates)
