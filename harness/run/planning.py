"""Model planning, before anything is sent: which models run, which is the baseline, who judges, with which templates.

Everything here fails fast with a one-line UsageError, so a misconfigured comparison never
spends a generation budget before it is found out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.errors import SuiteError, UsageError
from harness.judging.grading import applies
from harness.judging.plan import Design, JudgePlan, battles_for, default_quorum
from harness.judging.templates import JUDGE_KINDS, JudgeTemplate, load_configured_templates
from harness.models.base import GenerationParams
from harness.models.resolve import ResolvedModel, resolve_model, resolve_models, suite_model_name
from harness.suite.case import Case
from harness.suite.loader import Suite
from harness.suite.schema import JudgeConfig


def _suite_name(ref: str | None, suite: Suite) -> str | None:
    return suite_model_name(ref, suite.models) if ref is not None else None


def baseline_name(suite: Suite, baseline_ref: str | None) -> str | None:
    """The run's baseline model name (--baseline, else the suite's `baseline:`), or None.

    run.json records it whether or not a judge compares, so reports order the candidates'
    regressions from checks and metrics alone."""
    ref = baseline_ref or suite.baseline
    if ref is None:
        return None
    return resolve_model(ref, suite.models, suite.generation, suite.directory).name


def check_judged_gates(gate_texts: Sequence[str], judge: JudgePlan | None) -> None:
    """A gate on a judged figure (win rate, rubric, closed-QA) in a run without a judge could only
    fail: say so before anything is sent."""
    if judge is not None:
        return
    from harness.gates.evaluate import parse_gates
    from harness.gates.figures import FIGURES

    for gate in parse_gates(list(gate_texts), origin="gate"):
        figure = FIGURES.get(gate.figure)
        if figure is not None and figure.judged:
            raise UsageError(
                f"gate '{gate.text}' needs an LLM judge, and this run has none: pass --judge SPEC "
                "or set `judge: {model: ...}` in the suite"
            )


def _judge_refs(judge_refs: str | Sequence[str] | None, config: JudgeConfig) -> list[str]:
    """--judge (repeatable) or the suite's judge / panel; a judge named twice is refused."""
    if isinstance(judge_refs, str):
        return [judge_refs]
    refs = list(judge_refs or []) or config.judges
    repeated = sorted({ref for ref in refs if refs.count(ref) > 1})
    if repeated:
        raise UsageError(f"--judge {repeated[0]} given twice: a panel names each judge once")
    return refs


def _design(suite: Suite, ranking: str | None) -> Design:
    chosen = ranking or (suite.spec.ranking if suite.spec is not None else None) or "baseline"
    if chosen not in ("baseline", "round_robin"):
        raise UsageError(f"--ranking must be baseline or round_robin, not '{chosen}'")
    return "round_robin" if chosen == "round_robin" else "baseline"


def _ranking_problem(suite: Suite, ranking: str | None, message: str) -> UsageError | SuiteError:
    """A located line at the suite's `ranking:` when the suite asked for it, else one naming --ranking."""
    if ranking is None and suite.spec is not None and suite.spec.ranking is not None:
        from harness.suite.yaml_source import load_yaml_file

        try:
            doc = load_yaml_file(suite.path)
        except Exception:  # the suite loaded a moment ago; if it cannot be re-read, say it unlocated
            return UsageError(f"{suite.path}: ranking: {message}")
        return SuiteError([doc.diagnostic(("ranking",), message)])
    return UsageError(f"--ranking round_robin: {message}")


def plan_models(
    suite: Suite,
    cases: Sequence[Case],
    model_refs: Sequence[str],
    baseline_ref: str | None,
    judge_refs: str | Sequence[str] | None = None,
    ranking: str | None = None,
) -> tuple[list[ResolvedModel], JudgePlan | None]:
    """The run's models (the baseline added when missing) and the judging plan, if any.

    `judge_refs` is one judge or a panel (default: the suite's); `ranking` is `baseline` (each
    candidate vs the baseline) or `round_robin` (every pair), default the suite's `ranking:`.
    """
    config = suite.judge or JudgeConfig()
    refs_of_judges = _judge_refs(judge_refs, config)
    design = _design(suite, ranking)
    baseline_ref = baseline_ref or suite.baseline
    if model_refs:
        refs = list(model_refs)
    else:
        # A suite model that serves as judge is not also a model under test unless asked for.
        judging = {_suite_name(ref, suite) for ref in refs_of_judges}
        refs = [name for name in suite.models if name not in judging or name == baseline_ref]
        if not refs and baseline_ref is None:
            raise UsageError("no model to run: pass --model SPEC or name models in the suite's `models:`")
    models = resolve_models(refs, suite.models, suite.generation, suite.directory) if refs else []

    baseline: str | None = None
    if baseline_ref is not None:
        resolved_baseline = resolve_model(baseline_ref, suite.models, suite.generation, suite.directory)
        baseline = resolved_baseline.name
        if baseline not in {m.name for m in models}:
            models.append(resolved_baseline)
    names = [m.name for m in models]
    candidates = [name for name in names if name != baseline]

    has_pairwise = config.template("pairwise") is not None
    if design == "round_robin":
        if len(models) < 2:
            raise _ranking_problem(
                suite, ranking, f"a ranking needs at least two models, this run has {len(models)} "
                "(add models with --model SPEC)",
            )
        if not has_pairwise:
            raise _ranking_problem(suite, ranking, "a round robin compares pairs, but the suite has `judge: {pairwise: false}`")
        pairwise_on = True
    else:
        pairwise_on = baseline is not None and has_pairwise
    if not refs_of_judges:
        if design == "round_robin":
            raise UsageError(
                "a round robin needs a judge: pass --judge SPEC or set `judge: {model: ...}` in the suite"
            )
        # No judge: the candidates are still compared with the baseline, by checks and metrics
        # (summary.json's `comparison`); a judged gate is refused by check_judged_gates.
        return models, None
    if design == "baseline" and pairwise_on and not candidates:
        raise UsageError(f"nothing to compare with the baseline '{baseline}': add a candidate with --model SPEC")

    wanted = {
        "pairwise": pairwise_on,
        "rubric": config.template("rubric") is not None and any(applies("rubric", c) for c in cases),
        "closed_qa": config.template("closed_qa") is not None and any(applies("closed_qa", c) for c in cases),
        "label": config.label is not None,
    }
    if not any(wanted.values()):
        raise UsageError(
            f"judge '{refs_of_judges[0]}' has nothing to judge: add --baseline SPEC for a pairwise comparison, "
            "`rubric:` to cases, `judge: {closed_qa: true}` for cases with references, or a `judge: {label: ...}`"
        )
    judges = [_resolve_judge(ref, suite, config) for ref in refs_of_judges]
    judge_names = [judge.name for judge in judges]
    repeated = sorted({name for name in judge_names if judge_names.count(name) > 1})
    if repeated:
        raise UsageError(f"the panel names judge '{repeated[0]}' twice (under two references)")
    quorum = config.quorum if config.quorum is not None else default_quorum(len(judges))
    if quorum > len(judges):
        raise UsageError(f"judge.quorum {quorum} exceeds the panel's {len(judges)} judge(s)")
    try:
        loaded = load_configured_templates(config, suite.directory)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    templates: dict[str, JudgeTemplate] = {kind: loaded[kind] for kind in JUDGE_KINDS if wanted[kind]}
    battles = battles_for(design, names, baseline) if pairwise_on else []
    compared = [battle.first for battle in battles if battle.versus_baseline]
    return models, JudgePlan(judges, config, baseline, compared, names, templates, design, battles, quorum)


def _resolve_judge(ref: str, suite: Suite, config: JudgeConfig) -> ResolvedModel:
    judge = resolve_model(ref, suite.models, GenerationParams(), suite.directory)
    if judge.spec.kind in ("predictions", "run"):
        what = "a predictions file" if judge.spec.kind == "predictions" else "a recorded run"
        raise UsageError(f"judge '{ref}' is {what}; a judge must be a model that generates (openai, hf)")
    if config.concurrency is not None:
        judge = replace(judge, config=judge.config.model_copy(update={"concurrency": config.concurrency}))
    return judge
