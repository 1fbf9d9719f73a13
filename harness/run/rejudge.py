"""Judge-only re-runs: an existing run directory judged again, with another judge or template.

The re-run is an ordinary run whose models are the original run's models read back with the
`run:` adapter (`run:RUN#name`, under their original names), so nothing is generated: the
generate stage reads the recorded answers, the score stage recomputes checks and metrics with
the current suite, and the judge and report stages do the rest. The new run directory records
in run.json (`rejudged_from`) the run it was made from.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.errors import UsageError
from harness.judging.templates import JUDGE_KINDS, is_path_reference
from harness.run.context import RunContext
from harness.run.options import RunOptions
from harness.run.stages import PrepareStage
from harness.run.store import RUN_FILE, RunData, load_run, write_json
from harness.suite.loader import Suite, load_suite
from harness.suite.schema import JudgeConfig, ModelConfig

_RECORDED_KINDS = ("run", "predictions")  # specs a re-run may add: answers read from files, never generated


@dataclass
class RejudgeOptions:
    """What `harness judge rerun` can be told; unset fields follow the original run."""

    judge: str | None = None  # judge spec or suite model name (default: the original run's judge)
    baseline: str | None = None  # a model of the run, or a run:/predictions: spec (default: the original baseline)
    templates: dict[str, str | bool] = field(default_factory=dict)  # kind -> template name, path, or False (off)
    suite: Path | None = None  # the suite file (default: the path the original run recorded)
    output_dir: Path | None = None  # default: the folder that holds the original run
    gates: list[str] = field(default_factory=list)  # added to the suite's and the original run's gates
    concurrency: int = 32
    timeout: float = 60.0
    max_retries: int = 4
    use_cache: bool = True
    cache_dir: Path | None = None
    progress: bool = True
    history: bool = True
    allow_stale: bool = False
    allow_other_suite: bool = False


def parse_template_option(text: str) -> tuple[str, str | bool]:
    """`KIND=REF` from the command line: REF is a built-in name, a path (from the current folder) or `off`."""
    kind, sep, reference = text.partition("=")
    kind, reference = kind.strip(), reference.strip()
    if not sep or kind not in JUDGE_KINDS or not reference:
        raise UsageError(f"--template '{text}': expected KIND=TEMPLATE with KIND one of {', '.join(JUDGE_KINDS)}")
    if reference.lower() in ("off", "false", "none"):
        return kind, False
    if is_path_reference(reference):
        return kind, str(Path(reference).expanduser().resolve())  # the suite's folder must not change its meaning
    return kind, reference


def _suite_path(original: RunData, given: Path | None) -> Path:
    if given is not None:
        return given
    recorded = (original.run.get("suite") or {}).get("path")
    if not recorded:
        raise UsageError(f"{original.path / RUN_FILE}: records no suite path; pass --suite SUITE")
    path = Path(recorded)
    if not path.is_file():
        raise UsageError(
            f"the suite run {original.path.name} was made from, '{recorded}', is not found from here; pass --suite SUITE"
        )
    return path


def _original_baseline(original: RunData, names: list[str]) -> str | None:
    """The model the original run compared the others with, if it still names one of its models."""
    judge = original.run.get("judge") or {}
    options = original.run.get("options") or {}
    for candidate in (judge.get("baseline"), options.get("baseline")):
        if candidate in names:
            return str(candidate)
    return None


def _judge_refs(original: RunData, suite: Suite, names: list[str], given: str | None) -> list[str]:
    """--judge, else the original run's judge (or every judge of its panel)."""
    if given is not None:
        return [given]
    judge = original.run.get("judge") or {}
    panel = judge.get("panel")
    entries = panel.get("judges") or [] if panel else [{"name": judge.get("model"), "spec": judge.get("spec")}]
    refs = []
    for entry in entries:
        name, spec = entry.get("name"), entry.get("spec")
        if name in suite.models and name not in names:
            refs.append(str(name))  # a suite model keeps its options (base_url, api_key_env)
        elif spec:
            refs.append(str(spec))
    if not refs:
        raise UsageError(f"run {original.path.name} had no judge: pass --judge SPEC")
    return refs


def _original_ranking(original: RunData) -> str | None:
    """round_robin when the original run judged every pair; otherwise the suite decides."""
    ranking = (original.run.get("judge") or {}).get("ranking") or {}
    return "round_robin" if ranking.get("design") == "round_robin" else None


def prepare_rejudge(run_dir: str | Path, options: RejudgeOptions, console: Console) -> RunContext:
    """The re-run's context, checked before anything is sent; its run.json links to the original."""
    original = load_run(run_dir)
    names = original.model_names
    if not names or not original.results:
        raise UsageError(f"run {original.path} holds no answers to judge (no models or an empty results.jsonl)")
    loaded = load_suite(_suite_path(original, options.suite))

    recorded_ids = {str(record["case_id"]) for record in original.results}
    cases = [case for case in loaded.cases if case.id in recorded_ids]
    gone = sorted(recorded_ids - {case.id for case in cases})
    if not cases:
        raise UsageError(f"none of the cases of run {original.path.name} is in {loaded.path} any more")
    if gone:
        shown = ", ".join(gone[:5]) + (", ..." if len(gone) > 5 else "")
        console.print(f"warning: {len(gone)} cases of run {original.path.name} are no longer in {loaded.path} "
                      f"and are not judged ({shown})", markup=False, highlight=False, soft_wrap=True)

    source = original.path.resolve()
    models = {name: config for name, config in loaded.models.items() if name not in names}
    models.update({name: ModelConfig(spec=f"run:{source}#{name}") for name in names})
    judge_config = (loaded.judge or JudgeConfig()).model_copy(update=options.templates)
    suite = dataclasses.replace(loaded, models=models, baseline=None, judge=judge_config, cases=cases)

    baseline = options.baseline if options.baseline is not None else _original_baseline(original, names)
    if baseline is not None and baseline not in names:
        from harness.models.spec import parse_spec

        try:
            kind: str | None = parse_spec(baseline).kind
        except UsageError:
            kind = None
        if kind not in _RECORDED_KINDS:
            why = "a judge-only re-run generates nothing" if kind is not None else "not a model of the run"
            raise UsageError(
                f"--baseline {baseline}: {why}; use a model of the run ({', '.join(names)}) "
                "or recorded answers (run:RUN-DIR#MODEL, predictions:FILE)"
            )
    original_gates = [g for g in original.run.get("gates") or [] if g not in loaded.gates]
    judges = _judge_refs(original, suite, names, options.judge)
    run_options = RunOptions(
        models=list(names),
        output_dir=options.output_dir or original.path.parent,
        concurrency=options.concurrency,
        repeat=int((original.run.get("options") or {}).get("repeat") or 1),
        use_cache=options.use_cache,
        cache_dir=options.cache_dir,
        timeout=options.timeout,
        max_retries=options.max_retries,
        progress=options.progress,
        gates=[*original_gates, *options.gates],
        history=options.history,
        baseline=baseline,
        judge=judges[0] if len(judges) == 1 else None,
        judges=judges if len(judges) > 1 else [],
        ranking=_original_ranking(original),
        allow_stale=options.allow_stale,
        allow_other_suite=options.allow_other_suite,
    )
    ctx = PrepareStage().prepare(suite, run_options, console)
    generating = [m.name for m in ctx.models if m.spec.kind not in _RECORDED_KINDS]
    if generating:  # cannot happen by construction; a re-run that would buy answers must never start
        raise UsageError(f"judge-only re-run would generate answers for {', '.join(generating)}")
    ctx.run_info["rejudged_from"] = _link(original, ctx.run_dir)
    write_json(ctx.run_dir / RUN_FILE, ctx.run_info)
    return ctx


def _link(original: RunData, new_dir: Path) -> dict[str, Any]:
    source = original.path.resolve()
    return {
        "run_id": original.run.get("run_id") or source.name,
        "path": str(source),
        "relative_path": os.path.relpath(source, new_dir.resolve()),  # still right when both folders move together
        "judge": original.run.get("judge"),  # who judged it before
    }
