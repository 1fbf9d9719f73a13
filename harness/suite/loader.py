"""Load a suite file: parse, validate, expand sources and defaults, render templates, compile checks."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from harness.checks import CheckConfigError, compile_case_checks
from harness.errors import Diagnostic, SuiteError
from harness.metrics.validation import metric_problems
from harness.models.base import ChatMessage, GenerationParams
from harness.suite.case import Case
from harness.suite.schema import (
    CaseFields,
    CaseSpec,
    CheckSpec,
    JudgeConfig,
    MetricConfig,
    ModelConfig,
    PatternSpec,
    SourceSpec,
    SuiteFile,
)
from harness.suite.sources import MAX_REPORTED_PROBLEMS, Record, detect_format, iter_records, record_to_case
from harness.suite.templating import TemplateProblem, render
from harness.suite.validation import diagnostics_from_validation
from harness.suite.yaml_source import LocatedDocument, load_yaml_file

REGEX_PREFIX = "regex:"
# Checks a later stage adds (model specs, local paths, references), run with the loader's own so
# every problem comes out at once: (validated file, its positions, the suite's directory).
ExtraChecks = Callable[[SuiteFile, LocatedDocument, Path], list[Diagnostic]]


@dataclass
class Suite:
    """A loaded, validated suite with its cases expanded."""

    path: Path
    name: str
    description: str | None
    generation: GenerationParams
    models: dict[str, ModelConfig]
    baseline: str | None
    metrics: list[MetricConfig]
    labels: list[str] | None
    judge: JudgeConfig | None
    gates: list[str]
    cases: list[Case]
    sha256: str
    source_files: dict[str, str] = field(default_factory=dict)  # shown path -> sha256
    spec: SuiteFile | None = None
    notes: list[Diagnostic] = field(default_factory=list)  # located remarks that are not problems

    @property
    def directory(self) -> Path:
        return self.path.parent

    def count_by_source(self) -> Counter[str]:
        return Counter(case.source for case in self.cases)

    def count_by_tag(self) -> Counter[str]:
        return Counter(tag for case in self.cases for tag in case.tags)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _pattern(value: str | PatternSpec) -> PatternSpec:
    if isinstance(value, PatternSpec):
        return value
    if value.startswith(REGEX_PREFIX):
        return PatternSpec(pattern=value[len(REGEX_PREFIX) :].lstrip(), regex=True)
    return PatternSpec(pattern=value)


class _Expander:
    def __init__(self, doc: LocatedDocument, spec: SuiteFile, suite_path: Path) -> None:
        self.doc = doc
        self.spec = spec
        self.suite_path = suite_path
        self.base_dir = suite_path.parent
        self.problems: list[Diagnostic] = []
        self.cases: list[Case] = []
        self.source_hashes: dict[str, str] = {}
        self.system_problems: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------
    def _resolve_schemas(self, checks: list[CheckSpec], loc: tuple[str | int, ...]) -> list[CheckSpec]:
        resolved = []
        for i, check in enumerate(checks):
            if isinstance(check.json_schema, str):
                schema_path = (self.base_dir / check.json_schema).resolve()
                try:
                    text = schema_path.read_text(encoding="utf-8")
                    schema = yaml.safe_load(text) if schema_path.suffix in (".yaml", ".yml") else orjson.loads(text)
                except FileNotFoundError:
                    self.problems.append(
                        self.doc.diagnostic((*loc, i, "json_schema"), f"schema file '{check.json_schema}' not found")
                    )
                    continue
                except (orjson.JSONDecodeError, yaml.YAMLError, OSError) as exc:
                    self.problems.append(
                        self.doc.diagnostic((*loc, i, "json_schema"), f"cannot read schema '{check.json_schema}': {exc}")
                    )
                    continue
                if not isinstance(schema, dict):
                    self.problems.append(
                        self.doc.diagnostic((*loc, i, "json_schema"), "a JSON schema must be an object")
                    )
                    continue
                check = check.model_copy(update={"json_schema": schema})
            resolved.append(check)
        return resolved

    def _compile(self, fields: CaseFields | CaseSpec, loc_of: Any) -> bool:
        """Compile a block's own checks; report a located problem and return False on failure."""
        try:
            compile_case_checks(
                [_pattern(p) for p in fields.required_patterns],
                [_pattern(p) for p in fields.forbidden_patterns],
                fields.checks,
            )
        except CheckConfigError as exc:
            self.problems.append(loc_of(exc))
            return False
        return True

    # -- expansion ---------------------------------------------------------------------------
    def expand(self) -> list[Case]:
        defaults = self.spec.defaults.model_copy(
            update={"checks": self._resolve_schemas(self.spec.defaults.checks, ("defaults", "checks"))}
        )
        self._compile(defaults, lambda e: self.doc.diagnostic(("defaults", e.field, e.index or 0), e.message))
        self.defaults = defaults

        for index, case_spec in enumerate(self.spec.cases):
            loc: tuple[str | int, ...] = ("cases", index)
            case_spec = case_spec.model_copy(update={"checks": self._resolve_schemas(case_spec.checks, (*loc, "checks"))})
            ok = self._compile(case_spec, lambda e, loc=loc: self.doc.diagnostic((*loc, e.field, e.index or 0), e.message))
            if not ok:
                continue
            pos = self.doc.position(loc)
            origin = f"{self.doc.path}:{pos.line}" if pos else self.doc.path
            case_id = case_spec.id or f"case-{index + 1}"
            text_field = "input" if case_spec.input is not None else "messages"
            self._add(
                case_spec, case_id, origin, "inline", lambda msg, loc=loc, f=text_field: self.doc.diagnostic((*loc, f), msg)
            )

        for index, source in enumerate(self.spec.sources):
            self._expand_source(index, source)
        return self.cases

    def _add(
        self, spec: CaseSpec, case_id: str, origin: str, source: str, problem: Any,
        extra_tags: list[str] | None = None, templated: bool = True,
    ) -> None:
        """Expand one case. `templated` is false for rows read from a data file: their text is
        sent exactly as written, only the suite's own `system:` is rendered with their vars."""
        defaults = self.defaults
        variables = {**defaults.vars, **spec.vars}

        def text(value: str) -> str:
            return render(value, variables) if templated else value

        try:
            if spec.messages is not None:
                messages: list[ChatMessage] = [{"role": m.role, "content": text(m.content)} for m in spec.messages]
            else:
                messages = [{"role": "user", "content": text(spec.input or "")}]
        except TemplateProblem as exc:
            self.problems.append(problem(f"case '{case_id}': {exc}"))
            return
        if self.spec.system and messages[0]["role"] != "system":
            try:
                messages.insert(0, {"role": "system", "content": render(self.spec.system, variables)})
            except TemplateProblem as exc:
                if str(exc) not in self.system_problems:  # once, not once per case
                    self.system_problems.add(str(exc))
                    self.problems.append(self.doc.diagnostic(("system",), f"system (case '{case_id}'): {exc}"))
                return
        tags = list(dict.fromkeys([*defaults.tags, *(extra_tags or []), *spec.tags]))
        references = spec.references if spec.references is not None else ([spec.reference] if spec.reference is not None else [])
        self.cases.append(
            Case(
                id=case_id,
                messages=messages,
                references=references,
                required_patterns=[_pattern(p) for p in [*defaults.required_patterns, *spec.required_patterns]],
                forbidden_patterns=[_pattern(p) for p in [*defaults.forbidden_patterns, *spec.forbidden_patterns]],
                checks=[*defaults.checks, *spec.checks],
                rubric=spec.rubric if spec.rubric is not None else defaults.rubric,
                tags=tags,
                metadata={**defaults.metadata, **spec.metadata},
                origin=origin,
                source=source,
            )
        )

    def _expand_source(self, index: int, source: SourceSpec) -> None:
        loc = ("sources", index, "path")
        path = (self.base_dir / source.path).resolve()
        shown = _shown(path)
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "not found"
            self.problems.append(self.doc.diagnostic(loc, f"source file '{source.path}' {what} (looked at {shown})"))
            return
        self.source_hashes[shown] = hashlib.sha256(path.read_bytes()).hexdigest()
        fmt: str = source.format
        prefix = source.id_prefix or path.stem
        file_problems: list[Diagnostic] = []
        try:
            records = iter_records(path, "csv" if fmt == "csv" or path.suffix.lower() in (".csv", ".tsv") else "json", shown)
            count = 0
            for item in records:
                if isinstance(item, Diagnostic):
                    file_problems.append(item)
                elif isinstance(item, Record):
                    if source.limit is not None and count >= source.limit:
                        break
                    count += 1
                    if fmt == "auto":
                        detected = detect_format(path, item.data)
                        if detected is None:
                            self.problems.append(
                                self.doc.diagnostic(
                                    ("sources", index),
                                    f"cannot detect the format of '{source.path}': set `format:` to one of "
                                    "openai_chat, alpaca, evals, csv, jsonl",
                                )
                            )
                            return
                        fmt = detected
                    self._add_record(item, fmt, source, prefix, shown, file_problems)
                if len(file_problems) >= MAX_REPORTED_PROBLEMS:
                    file_problems.append(Diagnostic(shown, "too many problems, stopped reading"))
                    break
        except UnicodeDecodeError as exc:
            file_problems.append(Diagnostic(shown, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        except OSError as exc:
            file_problems.append(Diagnostic(shown, f"cannot read: {exc.strerror}"))
        if not file_problems and count == 0:
            file_problems.append(Diagnostic(shown, "source has no records"))
        self.problems.extend(file_problems)

    def _add_record(
        self, record: Record, fmt: str, source: SourceSpec, prefix: str, shown: str, problems: list[Diagnostic]
    ) -> None:
        where = record.line or None
        label = f"record {record.row}" if not record.line else None

        def problem(message: str) -> Diagnostic:
            return Diagnostic(shown, f"{label}: {message}" if label else message, where)

        try:
            raw = record_to_case(record.data, fmt, source.mapping)
        except ValueError as exc:
            problems.append(problem(str(exc)))
            return
        try:
            spec = CaseSpec.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field_name = ".".join(str(p) for p in first["loc"]) or "record"
            problems.append(problem(f"{field_name}: {first['msg']}"))
            return
        if not self._compile(spec, lambda e: problem(e.message)):
            return
        origin = f"{shown}:{record.line}" if record.line else f"{shown}#{record.row}"
        self._add(
            spec, spec.id or f"{prefix}-{record.row}", origin, shown, problem,
            extra_tags=source.tags, templated=source.template,
        )


def load_suite(path: str | Path, extra_checks: ExtraChecks | None = None) -> Suite:
    """Load and validate a suite file. Raises SuiteError with one located line per problem.

    `extra_checks` (e.g. `harness.run.preflight.suite_checks`) adds its problems to the same list;
    what it returns as notes ends up in `Suite.notes`."""
    suite_path = Path(path)
    shown = str(path)
    doc = load_yaml_file(suite_path, shown)
    if doc.data is None:
        raise SuiteError([Diagnostic(shown, "the suite file is empty")])
    if not isinstance(doc.data, dict):
        raise SuiteError([doc.diagnostic((), "the top level of a suite must be a mapping of keys (name, cases, ...)")])
    try:
        spec = SuiteFile.model_validate(doc.data)
    except ValidationError as exc:
        raise SuiteError(diagnostics_from_validation(exc, doc, SuiteFile)) from None

    expander = _Expander(doc, spec, suite_path)
    cases = expander.expand()
    problems = expander.problems

    seen: dict[str, Case] = {}
    for case in cases:
        if case.id in seen:
            problems.append(
                Diagnostic(shown, f"duplicate case id '{case.id}' ({case.origin} and {seen[case.id].origin})")
            )
        else:
            seen[case.id] = case
    if spec.gates:
        from harness.gates.validate import check_gates, suite_metric_figures

        problems.extend(check_gates(spec.gates, doc, suite_path, suite_metric_figures(spec.metrics)))
    if spec.monitor is not None:
        from harness.gates.validate import suite_metric_figures
        from harness.monitor.rules import check_monitor

        problems.extend(check_monitor(spec.monitor, doc, suite_path, suite_metric_figures(spec.metrics)))
    if spec.judge is not None:
        from harness.judging.templates import check_judge_templates  # judging imports suite modules

        problems.extend(check_judge_templates(spec.judge, doc, suite_path.parent))
    notes: list[Diagnostic] = []
    if extra_checks is not None:
        for found in extra_checks(spec, doc, suite_path.parent):
            (notes if found.note else problems).append(found)
    if not problems and not cases:
        problems.append(doc.diagnostic((), "the suite has no cases: add `cases:` or `sources:`"))
    if not problems:
        problems.extend(metric_problems(spec, cases, doc, suite_path.parent))
    if problems:
        # the suite file's own problems in file order, then those of its source files
        raise SuiteError(sorted(problems, key=lambda d: (d.path != shown, d.line or 0, d.column or 0)))

    return Suite(
        path=suite_path,
        name=spec.name or suite_path.stem,
        description=spec.description,
        generation=spec.generation,
        models=spec.models,
        baseline=spec.baseline,
        metrics=spec.metrics,
        labels=spec.labels,
        judge=spec.judge,
        gates=spec.gates,
        cases=cases,
        sha256=hashlib.sha256(suite_path.read_bytes()).hexdigest(),
        source_files=expander.source_hashes,
        spec=spec,
        notes=notes,
    )
