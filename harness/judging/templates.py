"""Judge templates: YAML files holding the prompt, the reply format and the parser settings.

The defaults ship inside the package (`harness/judging/templates/*.yaml`) so they work from
an installed wheel; a suite points `judge.pairwise` / `judge.rubric` / `judge.closed_qa` /
`judge.label.template` at a
built-in name or at a YAML file of its own (relative to the suite). A template's content hash
is part of every judge cache key, so editing a template re-judges without regenerating answers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import Diagnostic, RunError, SuiteError
from harness.models.base import ChatMessage
from harness.suite.schema import JudgeConfig
from harness.suite.templating import TemplateProblem, render
from harness.suite.validation import diagnostics_from_validation
from harness.suite.yaml_source import LocatedDocument, parse_yaml

TemplateKind = Literal["pairwise", "rubric", "closed_qa", "label"]
BUILTIN_TEMPLATES = ("pairwise", "rubric", "rubric_pass_fail", "closed_qa", "label")

_COMMON_VARIABLES = {"question", "conversation", "system", "reference", "references"}
ALLOWED_VARIABLES: dict[str, set[str]] = {
    "pairwise": _COMMON_VARIABLES | {"answer_a", "answer_b", "rubric"},
    "rubric": _COMMON_VARIABLES | {"answer", "rubric", "scale_min", "scale_max"},
    "closed_qa": _COMMON_VARIABLES | {"answer"},
    "label": _COMMON_VARIABLES | {"answer", "labels", "rubric"},
}
REQUIRED_VARIABLES: dict[str, set[str]] = {
    "pairwise": {"question", "answer_a", "answer_b"},
    "rubric": {"answer", "rubric"},
    "closed_qa": {"answer", "reference"},
    "label": {"answer", "labels"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VerdictFormat(_Strict):
    """How a pairwise verdict is read from the judge's reply."""

    pattern: str = Field(
        default=r"\[\[\s*([ABC])\s*\]\]",
        description="Regular expression with one group capturing the verdict label; the last match in the reply counts.",
    )
    first: str = Field(default="A", description="Label meaning the first answer (answer_a) is better.")
    second: str = Field(default="B", description="Label meaning the second answer (answer_b) is better.")
    tie: str = Field(default="C", description="Label meaning a tie.")

    @model_validator(mode="after")
    def _usable(self) -> VerdictFormat:
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        if compiled.groups != 1:
            raise ValueError(f"pattern must have exactly one capturing group (it has {compiled.groups})")
        if len({self.first, self.second, self.tie}) != 3:
            raise ValueError("first, second and tie must be three different labels")
        return self


class Scale(_Strict):
    """A numeric rubric scale; scores outside it are invalid replies."""

    min: int = Field(default=1, description="Lowest score.")
    max: int = Field(default=10, description="Highest score.")

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"scale min ({self.min}) must be below max ({self.max})")
        return self


class TemplateFile(_Strict):
    """A judge template file."""

    kind: TemplateKind = Field(description="pairwise, rubric, closed_qa or label.")
    description: str | None = Field(default=None, description="One line shown in listings.")
    system: str | None = Field(default=None, description="The judge's system message (Jinja2).")
    prompt: str = Field(description="The judge's user message (Jinja2 over the placeholders of the kind).")
    retry_prompt: str = Field(description="Sent after an unparseable reply, asking again for the expected format.")
    max_tokens: int = Field(default=1024, gt=0, description="Upper bound on the judge's reply length.")
    verdict: VerdictFormat | None = Field(default=None, description="pairwise only: how to read the verdict.")
    scale: Scale | Literal["pass_fail"] | None = Field(
        default=None, description="rubric only: {min, max} (default 1-10) or pass_fail."
    )

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> TemplateFile:
        if self.kind != "pairwise" and self.verdict is not None:
            raise ValueError("`verdict` applies to pairwise templates only")
        if self.kind != "rubric" and self.scale is not None:
            raise ValueError("`scale` applies to rubric templates only")
        return self


@dataclass(frozen=True)
class JudgeTemplate:
    """A loaded, validated template."""

    name: str  # the built-in name or the path as written in the suite
    origin: str  # "builtin" or the file it was read from
    spec: TemplateFile
    sha256: str  # of the file's bytes

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def verdict(self) -> VerdictFormat:
        return self.spec.verdict or VerdictFormat()

    @property
    def scale(self) -> Scale | Literal["pass_fail"]:
        return self.spec.scale or Scale()

    def variables(self, values: dict[str, Any]) -> dict[str, Any]:
        """Every placeholder of the kind, with the given values and empty defaults."""
        base: dict[str, Any] = {"conversation": [], "references": [], "system": "", "reference": "", "rubric": "",
                                "labels": []}
        if self.kind == "rubric":
            scale = self.scale
            base.update(
                scale_min=scale.min if isinstance(scale, Scale) else "fail",
                scale_max=scale.max if isinstance(scale, Scale) else "pass",
            )
        base.update(values)
        return {name: base.get(name, "") for name in ALLOWED_VARIABLES[self.kind]}

    def render_messages(self, values: dict[str, Any]) -> list[ChatMessage]:
        """The judge's messages; raises TemplateProblem."""
        variables = self.variables(values)
        messages: list[ChatMessage] = []
        if self.spec.system:
            messages.append({"role": "system", "content": render(self.spec.system, variables)})
        messages.append({"role": "user", "content": render(self.spec.prompt, variables)})
        return messages

    def messages(self, values: dict[str, Any]) -> list[ChatMessage]:
        """The judge's messages for real answers: a template failing on them stops the run (exit 3)."""
        try:
            return self.render_messages(values)
        except TemplateProblem as exc:
            raise RunError(f"judge template '{self.name}' ({self.origin}): {exc}") from None

    def retry_message(self, values: dict[str, Any]) -> str:
        try:
            return render(self.spec.retry_prompt, self.variables(values))
        except TemplateProblem as exc:
            raise RunError(f"judge template '{self.name}' ({self.origin}), retry_prompt: {exc}") from None

    def describe(self) -> dict[str, Any]:
        """What run.json records about the template."""
        return {"name": self.name, "kind": self.kind, "origin": self.origin, "sha256": self.sha256}


def builtin_template_text(name: str) -> str:
    if name not in BUILTIN_TEMPLATES:
        raise KeyError(name)
    return (resources.files("harness.judging") / "templates" / f"{name}.yaml").read_text(encoding="utf-8")


def is_path_reference(reference: str) -> bool:
    return "/" in reference or "\\" in reference or reference.endswith((".yaml", ".yml"))


def _check_placeholders(spec: TemplateFile, doc_diagnostic: Any) -> list[Diagnostic]:
    environment = jinja2.Environment()
    allowed = ALLOWED_VARIABLES[spec.kind]
    used: set[str] = set()
    problems: list[Diagnostic] = []
    for field in ("system", "prompt", "retry_prompt"):
        text = getattr(spec, field)
        if text is None:
            continue
        try:
            names = jinja2.meta.find_undeclared_variables(environment.parse(text))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(doc_diagnostic((field,), f"{field}: template syntax error on its line {exc.lineno}: {exc.message}"))
            continue
        unknown = sorted(names - allowed)
        if unknown:
            problems.append(
                doc_diagnostic(
                    (field,),
                    f"{field} uses unknown placeholder(s) {', '.join(unknown)}; a {spec.kind} template has "
                    f"{', '.join(sorted(allowed))}",
                )
            )
        if field != "retry_prompt":
            used |= names
    missing = sorted(REQUIRED_VARIABLES[spec.kind] - used)
    if missing and not problems:
        problems.append(
            doc_diagnostic(("prompt",), f"a {spec.kind} template must use {', '.join('{{ ' + m + ' }}' for m in missing)}")
        )
    return problems


def parse_template(text: str, shown: str, name: str, origin: str) -> JudgeTemplate:
    """Validate a template's text. Raises SuiteError with lines located in the template file."""
    doc = parse_yaml(text, shown)
    if not isinstance(doc.data, dict):
        raise SuiteError([Diagnostic(shown, "a judge template must be a mapping (kind, prompt, retry_prompt, ...)")])
    try:
        spec = TemplateFile.model_validate(doc.data)
    except ValidationError as exc:
        raise SuiteError(diagnostics_from_validation(exc, doc, TemplateFile)) from None
    problems = _check_placeholders(spec, doc.diagnostic)
    if problems:
        raise SuiteError(problems)
    template = JudgeTemplate(name, origin, spec, hashlib.sha256(text.encode("utf-8")).hexdigest())
    try:  # catches errors that only show when rendering (bad filters, sandbox violations)
        template.render_messages({"question": "q", "answer": "a", "answer_a": "a", "answer_b": "b", "rubric": "r",
                                  "reference": "ref", "references": ["ref"], "labels": ["first", "second"]})
        render(spec.retry_prompt, template.variables({"labels": ["first", "second"]}))
    except TemplateProblem as exc:
        raise SuiteError([doc.diagnostic(("prompt",), str(exc))]) from None
    return template


def load_template(reference: str, base_dir: Path, expected_kind: str) -> JudgeTemplate:
    """A built-in template by name, or a template file by path (relative to `base_dir`).

    Raises ValueError for a reference that names nothing (the caller locates it in the suite)
    and SuiteError for problems inside a template file.
    """
    if is_path_reference(reference):
        path = Path(reference).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"judge template '{reference}' not found (looked at {path})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read judge template '{reference}': {exc}") from None
        template = parse_template(text, str(path), reference, str(path))
    else:
        try:
            text = builtin_template_text(reference)
        except KeyError:
            raise ValueError(
                f"unknown judge template '{reference}': use a built-in ({', '.join(BUILTIN_TEMPLATES)}) "
                "or a path to a YAML file"
            ) from None
        template = parse_template(text, f"<builtin {reference}>", reference, "builtin")
    if template.kind != expected_kind:
        raise ValueError(f"judge template '{reference}' is a {template.kind} template, expected {expected_kind}")
    return template


JUDGE_KINDS: tuple[TemplateKind, ...] = ("pairwise", "rubric", "closed_qa", "label")


def load_configured_templates(config: JudgeConfig, base_dir: Path) -> dict[str, JudgeTemplate]:
    """The enabled templates of a suite's `judge:` block, by kind. Raises SuiteError/ValueError."""
    loaded: dict[str, JudgeTemplate] = {}
    for kind in JUDGE_KINDS:
        reference = config.template(kind)
        if reference is not None:
            loaded[kind] = load_template(reference, base_dir, kind)
    return loaded


def check_judge_templates(config: JudgeConfig, doc: LocatedDocument, base_dir: Path) -> list[Diagnostic]:
    """Problems with the templates a suite's `judge:` names, located in the suite or the template file."""
    problems: list[Diagnostic] = []
    for kind in JUDGE_KINDS:
        reference = config.template(kind)
        if reference is None:
            continue
        try:
            load_template(reference, base_dir, kind)
        except ValueError as exc:
            where = ("judge", "label", "template") if kind == "label" else ("judge", kind)
            problems.append(doc.diagnostic(where, str(exc)))
        except SuiteError as exc:
            problems.extend(exc.diagnostics)
    return problems
