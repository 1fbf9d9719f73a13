"""Everything `run` would refuse, checked from the suite file alone, before anything is sent.

`harness validate` and the prepare stage of `harness run` both load suites with these checks,
so they print the same list: every model spec (with a did-you-mean for a mistyped prefix), the
local files a model needs (`hf:` base and adapter directories, `predictions:` files), the
`training_data` files, the baseline and judge references, and the models named in gates. Each
problem is located at its value in the suite (`file:line:col`). Nothing here touches the
network: a hub model id that is not downloaded yet is a note, since `run` can fetch it.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import Diagnostic, UsageError
from harness.models.spec import ModelSpec, parse_spec, spec_suggestion
from harness.suite.schema import ModelConfig, SuiteFile
from harness.suite.yaml_source import LocatedDocument

Loc = tuple[str | int, ...]


def _resolve(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _spec_problem(text: str) -> tuple[ModelSpec | None, str | None]:
    try:
        return parse_spec(text), None
    except UsageError as exc:
        if exc.message.startswith("unknown model spec"):
            hint = spec_suggestion(text) or " (use ft:..., openai:NAME, a plain OpenAI name, hf:PATH[+ADAPTER] or predictions:FILE)"
            return None, f"unknown model spec '{text}'{hint}"
        return None, exc.message


def _hf_problems(spec: ModelSpec, config: ModelConfig, base_dir: Path, at: Loc, doc: LocatedDocument) -> list[Diagnostic]:
    from harness.models.hf.checkpoint import ADAPTER_CONFIG, _hub_snapshot, _looks_like_path

    found: list[Diagnostic] = []
    given = spec.target
    path = _resolve(base_dir, given)
    if path.is_dir():
        if not (path / "config.json").is_file():
            if (path / ADAPTER_CONFIG).is_file():
                found.append(doc.diagnostic(at, f"'{given}' is a LoRA adapter, not a base model: use hf:<base>+{given}"))
            else:
                found.append(doc.diagnostic(at, f"'{given}' has no config.json: not a Hugging Face model directory"))
    elif path.exists():
        found.append(doc.diagnostic(at, f"base model '{given}' is a file; give the model's directory"))
    elif _looks_like_path(given):
        found.append(doc.diagnostic(at, f"base model directory '{given}' not found (looked at {path})"))
    else:
        revision = (config.options or {}).get("revision")
        if _hub_snapshot(given, revision if isinstance(revision, str) else None) is None:
            note = f"'{given}' is not a local directory nor a downloaded hub model: `run` will look it up on the hub"
            found.append(_as_note(doc.diagnostic(at, note)))
    for adapter in spec.adapters:
        adapter_path = _resolve(base_dir, adapter)
        if not adapter_path.is_dir():
            found.append(doc.diagnostic(at, f"adapter directory '{adapter}' not found (looked at {adapter_path})"))
        elif not (adapter_path / ADAPTER_CONFIG).is_file():
            found.append(doc.diagnostic(at, f"'{adapter}' has no {ADAPTER_CONFIG}: not a LoRA adapter directory"))
    return found


def _as_note(diagnostic: Diagnostic) -> Diagnostic:
    return Diagnostic(diagnostic.path, diagnostic.message, diagnostic.line, diagnostic.column, note=True)


def model_problems(name: str, config: ModelConfig, base_dir: Path, doc: LocatedDocument) -> list[Diagnostic]:
    """What `run` would refuse about one suite model, located at its `spec:`."""
    at: Loc = ("models", name, "spec")
    spec, problem = _spec_problem(config.spec)
    if spec is None:
        return [doc.diagnostic(at, f"model '{name}': {problem}")]
    found: list[Diagnostic] = []
    if spec.kind == "hf":
        found = _hf_problems(spec, config, base_dir, at, doc)
    elif spec.kind == "predictions":
        path = _resolve(base_dir, spec.target)
        if not path.is_file():
            found.append(doc.diagnostic(at, f"predictions file '{spec.target}' not found (looked at {path})"))
    elif spec.kind == "run":
        path = _resolve(base_dir, spec.target)
        if not (path / "run.json").is_file():
            found.append(doc.diagnostic(at, f"run directory '{spec.target}' not found or has no run.json (looked at {path})"))
    elif config.base_url is not None:
        from urllib.parse import urlsplit

        parts = urlsplit(config.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            found.append(doc.diagnostic(("models", name, "base_url"), f"base_url '{config.base_url}' is not an http(s) URL"))
        elif parts.username or parts.password:
            found.append(doc.diagnostic(("models", name, "base_url"),
                                        "the base URL embeds credentials: pass the key through api_key_env"))
    return [
        Diagnostic(d.path, d.message if d.message.startswith(f"model '{name}'") else f"model '{name}': {d.message}",
                   d.line, d.column, d.note)
        for d in found
    ]


def _reference_problem(ref: str, suite_models: dict[str, ModelConfig], what: str) -> str | None:
    """A baseline or judge must be a suite model's name or a valid spec."""
    if ref in suite_models:
        return None
    spec, problem = _spec_problem(ref)
    if spec is not None:
        return None
    import difflib

    close = difflib.get_close_matches(ref, list(suite_models), n=1, cutoff=0.6)
    if close:
        return f"{what} '{ref}' is not a model of this suite (did you mean '{close[0]}'?)"
    names = ", ".join(suite_models) or "none"
    return f"{what} '{ref}' is neither a model of this suite (models: {names}) nor a model spec: {problem}"


def _gate_model_problems(spec: SuiteFile, doc: LocatedDocument) -> list[Diagnostic]:
    from harness.gates.expression import GateSyntaxError, parse_gate

    found = []
    names = list(spec.models)
    for index, text in enumerate(spec.gates):
        try:
            gate = parse_gate(text)
        except GateSyntaxError:
            continue  # reported by the loader's gate checks
        if gate.model is None or not names or gate.model in names or gate.model == spec.baseline:
            continue
        import difflib

        close = difflib.get_close_matches(gate.model, names, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (models: {', '.join(names)})"
        found.append(doc.diagnostic(("gates", index), f"gate '{text}': model '{gate.model}' is not in this suite{hint}"))
    return found


def _gate_needs_notes(spec: SuiteFile, doc: LocatedDocument) -> list[Diagnostic]:
    """Notes for gates the suite alone cannot serve: a judged figure without a judge (`run` refuses
    it unless given --judge), a comparison with the baseline without one (it would fail). Notes,
    not errors: `run --judge SPEC` / `--baseline NAME` may supply what the file lacks."""
    from harness.gates.expression import GateSyntaxError, parse_gate
    from harness.gates.figures import FIGURES

    has_judge = spec.judge is not None and (spec.judge.model is not None or bool(spec.judge.models))
    found = []
    for index, text in enumerate(spec.gates):
        try:
            gate = parse_gate(text)
        except GateSyntaxError:
            continue  # reported by the loader's gate checks
        figure = FIGURES.get(gate.figure)
        if figure is None:
            continue
        if figure.judged and not has_judge:
            message = (f"gate '{text}' needs an LLM judge and the suite names none: `run` refuses it "
                       "unless given --judge SPEC")
        elif figure.per_candidate and spec.baseline is None:
            message = (f"gate '{text}' compares a candidate with the baseline and the suite names none: "
                       "it fails unless `run` is given --baseline NAME")
        else:
            continue
        found.append(_as_note(doc.diagnostic(("gates", index), message)))
    return found


def suite_checks(spec: SuiteFile, doc: LocatedDocument, base_dir: Path) -> list[Diagnostic]:
    """Every problem `run` would find in the suite's models, references and files (and notes)."""
    found: list[Diagnostic] = []
    for name, config in spec.models.items():
        found.extend(model_problems(name, config, base_dir, doc))
    if spec.baseline is not None:
        problem = _reference_problem(spec.baseline, spec.models, "baseline")
        if problem:
            found.append(doc.diagnostic(("baseline",), problem))
    judges: list[tuple[str, Loc]] = []
    if spec.judge is not None and spec.judge.model is not None:
        judges.append((spec.judge.model, ("judge", "model")))
    if spec.judge is not None and spec.judge.models:
        judges.extend((ref, ("judge", "models", index)) for index, ref in enumerate(spec.judge.models))
    for judge_model, at in judges:
        problem = _reference_problem(judge_model, spec.models, "judge")
        if problem is None:
            judge_config = spec.models.get(judge_model)
            judge_spec, _ = _spec_problem(judge_config.spec if judge_config is not None else judge_model)
            if judge_spec is not None and judge_spec.kind in ("predictions", "run"):
                problem = f"judge '{judge_model}' is a recording ({judge_spec.kind}:); a judge must be a model that generates"
        if problem:
            found.append(doc.diagnostic(at, problem))
    found.extend(_gate_model_problems(spec, doc))
    found.extend(_gate_needs_notes(spec, doc))
    for index, value in enumerate(spec.training_data):
        path = _resolve(base_dir, value)
        if not path.exists():
            found.append(doc.diagnostic(("training_data", index) if _is_list(doc) else ("training_data",),
                                        f"training_data '{value}' not found (looked at {path})"))
    return sorted(found, key=lambda d: (d.line or 0, d.column or 0))


def _is_list(doc: LocatedDocument) -> bool:
    return isinstance(doc.data, dict) and isinstance(doc.data.get("training_data"), list)
