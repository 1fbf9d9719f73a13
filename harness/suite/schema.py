"""The suite file format, as strict pydantic models.

Every model forbids unknown keys; the loader turns pydantic's errors into
`file:line:col: message` lines with a did-you-mean for misspelt keys.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.metrics.options import check_labels, check_metric_check, check_metric_name, parse_options
from harness.models.base import GenerationParams


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class MessageSpec(StrictModel):
    """One chat turn."""

    role: Literal["system", "user", "assistant"] = Field(description="Who speaks.")
    content: str = Field(description="The text; Jinja2-templated with the case's vars.")


class PatternSpec(StrictModel):
    """A required or forbidden pattern in its long form."""

    pattern: str = Field(description="Substring, or a regular expression when `regex` is true.")
    regex: bool = Field(default=False, description="Treat `pattern` as a Python regular expression.")
    case_sensitive: bool = Field(default=False, description="Match case exactly.")


CHECK_KINDS = (
    "equals",
    "starts_with",
    "regex",
    "is_json",
    "json_schema",
    "min_length",
    "max_length",
    "min_words",
    "max_words",
    "metric",
)


class CheckSpec(StrictModel):
    """A typed check: exactly one kind key (`equals: "Paris"`, `max_words: 50`...) plus options."""

    equals: str | None = Field(default=None, description="Output equals this text (after stripping whitespace).")
    starts_with: str | None = Field(default=None, description="Output starts with this text.")
    regex: str | None = Field(default=None, description="Output contains a match of this regular expression.")
    is_json: bool | None = Field(default=None, description="Output parses as JSON (code fences allowed).")
    json_schema: dict[str, Any] | str | None = Field(
        default=None, description="Output is JSON valid against this schema (inline, or a path to a schema file)."
    )
    min_length: int | None = Field(default=None, ge=0, description="At least this many characters.")
    max_length: int | None = Field(default=None, ge=0, description="At most this many characters.")
    min_words: int | None = Field(default=None, ge=0, description="At least this many words.")
    max_words: int | None = Field(default=None, ge=0, description="At most this many words.")
    metric: str | None = Field(
        default=None, description="A reference metric of the case (rougeL, token_f1, bleu...) that must lie within min/max."
    )
    min: float | None = Field(default=None, description="With `metric`: the lowest passing value.")
    max: float | None = Field(default=None, description="With `metric`: the highest passing value.")
    name: str | None = Field(default=None, description="Label shown in reports instead of the generated one.")
    case_sensitive: bool = Field(default=True, description="For equals/starts_with/regex: match case exactly.")

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> CheckSpec:
        if self.metric is None and (self.min is not None or self.max is not None):
            raise ValueError("`min`/`max` go with `metric:` (e.g. {metric: rougeL, min: 0.4})")
        present = [kind for kind in CHECK_KINDS if getattr(self, kind) is not None]
        if len(present) != 1:
            found = ", ".join(present) if present else "none"
            raise ValueError(f"a check needs exactly one of {', '.join(CHECK_KINDS)} (found: {found})")
        if self.metric is not None:
            check_metric_check(self.metric)
            if self.min is None and self.max is None:
                raise ValueError(f"the check on metric '{self.metric}' needs `min`, `max` or both")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"the check on metric '{self.metric}' has min {self.min:g} above max {self.max:g}")
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in CHECK_KINDS if getattr(self, kind) is not None)


Pattern = str | PatternSpec


class CaseFields(StrictModel):
    """Fields shared by cases and `defaults`."""

    required_patterns: list[Pattern] = Field(
        default_factory=list, description="All must appear in the output (case-insensitive substring; `regex:` prefix for a regex)."
    )
    forbidden_patterns: list[Pattern] = Field(default_factory=list, description="None may appear in the output.")
    checks: list[CheckSpec] = Field(default_factory=list, description="Typed checks; all must pass.")
    rubric: str | None = Field(default=None, description="What a good answer does; used by LLM judges.")
    tags: list[str] = Field(default_factory=list, description="Labels for filtering and per-tag aggregates.")
    vars: dict[str, Any] = Field(default_factory=dict, description="Values for Jinja2 templating of the input.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form data carried into results.")


class CaseSpec(CaseFields):
    """One test case as written in the suite."""

    id: str | None = Field(default=None, description="Stable id; derived from the position when omitted.")
    input: str | None = Field(default=None, description="The user message (Jinja2 template over vars).")
    messages: list[MessageSpec] | None = Field(default=None, description="A multi-turn conversation instead of `input`.")
    reference: str | None = Field(default=None, description="The gold answer.")
    references: list[str] | None = Field(default=None, description="Several acceptable gold answers.")

    @model_validator(mode="after")
    def _one_input_one_reference(self) -> CaseSpec:
        if self.input is not None and self.messages is not None:
            raise ValueError("give either `input` or `messages`, not both")
        if self.input is None and self.messages is None:
            raise ValueError("a case needs `input` or `messages`")
        if self.messages is not None:
            if not self.messages:
                raise ValueError("`messages` is empty")
            if self.messages[-1].role == "assistant":
                raise ValueError("`messages` must end with a user turn for the model to answer")
        if self.reference is not None and self.references is not None:
            raise ValueError("give either `reference` or `references`, not both")
        return self


SourceFormat = Literal["auto", "openai_chat", "alpaca", "evals", "csv", "jsonl"]


class SourceSpec(StrictModel):
    """An external file expanded into cases."""

    path: str = Field(description="File path, relative to the suite file.")
    format: SourceFormat = Field(default="auto", description="File format; detected from content and extension when auto.")
    mapping: dict[str, str] = Field(
        default_factory=dict,
        description="Case field -> column/key in the file (input, reference, references, id, tags, rubric, system, or vars.NAME).",
    )
    tags: list[str] = Field(default_factory=list, description="Tags added to every case of this source.")
    id_prefix: str | None = Field(default=None, description="Prefix for derived case ids (default: the file's stem).")
    limit: int | None = Field(default=None, gt=0, description="Use only the first N rows.")
    template: bool = Field(
        default=False,
        description="Render the rows' input and messages as Jinja2 templates over their vars (default: "
        "the file's text is sent exactly as written).",
    )

    @field_validator("mapping")
    @classmethod
    def _known_targets(cls, mapping: dict[str, str]) -> dict[str, str]:
        allowed = {"input", "reference", "references", "id", "tags", "rubric", "system", "instruction", "output"}
        for target in mapping:
            if target not in allowed and not target.startswith(("vars.", "metadata.")):
                raise ValueError(
                    f"unknown mapping target '{target}' (use one of {', '.join(sorted(allowed))}, vars.NAME or metadata.NAME)"
                )
        return mapping


class RayConfig(StrictModel):
    """`hf:` generation on a Ray cluster: actors that each load a base once, with every adapter the run uses on it."""

    address: str | None = Field(
        default=None,
        description="local (a new Ray instance on this machine), auto (the cluster this machine belongs to), "
        "ray://HEAD:10001 (Ray Client) or HOST:PORT; default: RAY_ADDRESS, else a Ray instance already running "
        "here, else a new one. --ray overrides it.",
    )
    actors: int | None = Field(
        default=None, gt=0, description="Actors per base model (default: as many as the cluster's resources hold)."
    )
    num_cpus: float | None = Field(
        default=None, gt=0, description="CPUs per actor (default: 1 when actors get GPUs, else the smallest node's CPUs)."
    )
    num_gpus: float | None = Field(
        default=None, ge=0, description="GPUs per actor (default: 1 when the cluster has GPUs and options.device allows one, else 0)."
    )
    max_restarts: int = Field(default=2, ge=0, le=100, description="Restarts of an actor that died before it is given up.")
    start_timeout: float = Field(
        default=300, gt=0, description="Seconds to wait for the actors to be placed and to check their model files."
    )


class EngineConfig(StrictModel):
    """How answers are generated (default: from this process)."""

    ray: RayConfig | bool | None = Field(
        default=None,
        description="Generate hf: models on Ray actors: settings, or true for the defaults; in a model entry, false "
        "keeps that model in this process.",
    )


class ModelConfig(StrictModel):
    """A named model under test."""

    spec: str = Field(description="Model spec: ft:..., openai:NAME, a plain OpenAI name, hf:PATH[+ADAPTER], predictions:FILE.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint (overrides OPENAI_BASE_URL).")
    api_key_env: str | None = Field(default=None, description="Environment variable holding the API key (default OPENAI_API_KEY).")
    generation: GenerationParams | None = Field(default=None, description="Overrides of the suite's generation parameters.")
    concurrency: int | None = Field(default=None, gt=0, description="Requests in flight for this model (default: --concurrency).")
    timeout: float | None = Field(default=None, gt=0, description="Per-request timeout in seconds.")
    max_retries: int | None = Field(default=None, ge=0, description="Retries on 429/5xx/connection errors.")
    options: dict[str, Any] = Field(default_factory=dict, description="Adapter-specific options (validated by the adapter).")
    version: str | None = Field(
        default=None,
        description="Label of what serves this name now (e.g. a training run id): cached answers are reused only for "
        "the same label, without an age limit. Change it whenever the model behind the name changes.",
    )
    cache: ModelCacheConfig | None = Field(default=None, description="Reuse of cached answers for a mutable model name.")
    batch: bool = Field(
        default=False, description="Send this model's requests through the OpenAI Batch API (half price, answers within 24 h)."
    )
    engine: EngineConfig | None = Field(default=None, description="Overrides of the suite's `engine:` for this model.")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """Seconds from 90, '90s', '30m', '2h', '7d' or '1w'. Raises ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like 30m, 2h, 7d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        found = _DURATION.match(str(value))
        if not found:
            raise ValueError(f"'{value}' is not a duration: write seconds or 30m, 2h, 7d")
        seconds = float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


class ModelCacheConfig(StrictModel):
    """`cache:` of a model entry."""

    max_age: float | None = Field(
        default=None,
        description="Oldest cached answer of a mutable model name that may be reused: seconds or 30m, 2h, 7d "
        "(0: never, except when resuming an interrupted run). Default: 1h.",
    )

    @field_validator("max_age", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


ModelConfig.model_rebuild()


def _known_metric(name: str) -> str:
    check_metric_name(name)
    return name


class MetricConfig(StrictModel):
    """A metric with options: `{name: bleu, options: {tokenize: intl}}`."""

    name: Annotated[str, AfterValidator(_known_metric)] = Field(
        description="Metric name (exact_match, token_f1, rouge1, rouge2, rougeL, rougeLsum, bleu, chrf, "
        "classification) or evaluate:NAME-OR-PATH."
    )
    options: dict[str, Any] = Field(default_factory=dict, description="Metric-specific options (see the README).")

    @model_validator(mode="after")
    def _valid_options(self) -> MetricConfig:
        parse_options(self.name, self.options)
        return self


class LabelJudgeConfig(StrictModel):
    """A label judge: the judge picks one of `labels` for every answer; `passing` labels pass the case."""

    labels: list[str] = Field(min_length=2, description="The labels the judge chooses from (at least two).")
    passing: list[str] = Field(min_length=1, description="Labels that count as a pass; each must be one of `labels`.")
    template: str = Field(default="label", description="Template: the built-in `label` or a YAML path relative to the suite.")

    @field_validator("labels", "passing", mode="before")
    @classmethod
    def _no_yaml_booleans(cls, value: Any) -> Any:
        if isinstance(value, list) and any(isinstance(item, bool) for item in value):
            raise ValueError("YAML reads yes/no/true/false as booleans: quote labels like these ('yes')")
        return value

    @field_validator("labels")
    @classmethod
    def _distinct_labels(cls, labels: list[str]) -> list[str]:
        keys = [label.strip().lower() for label in labels]
        if any(not key for key in keys):
            raise ValueError("a label cannot be empty")
        repeated = sorted({label for label, key in zip(labels, keys, strict=True) if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"label(s) {', '.join(repeated)} given twice (labels compare case-insensitively)")
        return labels

    @field_validator("passing")
    @classmethod
    def _passing_among_labels(cls, passing: list[str], info: ValidationInfo) -> list[str]:
        labels = info.data.get("labels")
        if labels is None:  # `labels` itself was invalid and is reported
            return passing
        known = {label.strip().lower() for label in labels}
        unknown = [label for label in passing if label.strip().lower() not in known]
        if unknown:
            raise ValueError(
                f"passing label(s) {', '.join(repr(u) for u in unknown)} not among the labels ({', '.join(labels)})"
            )
        return passing

    @field_validator("template")
    @classmethod
    def _template_named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give a template name or path")
        return value


class JudgeConfig(StrictModel):
    """LLM-as-judge settings. Templates are built-in names (pairwise, rubric, rubric_pass_fail,
    closed_qa, label) or paths to YAML template files relative to the suite; `false` switches a grading off."""

    model: str | None = Field(
        default=None, description="Judge model: a spec (gpt-4o, openai:NAME, hf:PATH) or a name from `models`; --judge overrides."
    )
    models: list[str] | None = Field(
        default=None, min_length=1,
        description="A panel of judges (specs or names from `models`), each judging every item; --judge (repeated) overrides.",
    )
    aggregate: Literal["majority", "mean"] = Field(
        default="majority",
        description="How a panel's verdicts combine: majority of the judges' item verdicts, or mean of their soft preferences.",
    )
    quorum: int | None = Field(
        default=None, ge=1,
        description="Valid judge verdicts an item needs, else it is invalid (default: a majority of the panel).",
    )
    label: LabelJudgeConfig | None = Field(
        default=None, description="A label judge: {labels: [...], passing: [...], template: label}."
    )
    pairwise: str | bool = Field(
        default="pairwise", description="Template comparing each candidate with the baseline, in both orders; false: no comparison."
    )
    rubric: str | bool = Field(
        default="rubric", description="Template scoring every answer of a case that has a `rubric:`; false: no rubric scores."
    )
    closed_qa: str | bool = Field(
        default=False, description="Template checking answers against the case's reference (true: the built-in closed_qa)."
    )
    max_retries: int = Field(default=2, ge=0, le=10, description="Re-asks after an unparseable reply before it counts as invalid.")
    logprobs: int = Field(
        default=5, ge=0, le=20, description="Top alternatives per token requested for the soft preference (0: no logprobs)."
    )
    concurrency: int | None = Field(default=None, gt=0, description="Judge requests in flight (default: --concurrency).")
    batch: bool = Field(default=False, description="Send the judge's requests through the OpenAI Batch API (half price).")
    resamples: int = Field(default=2000, ge=2000, le=100_000, description="Bootstrap resamples for confidence intervals.")
    seed: int = Field(default=20240521, description="Seed of the bootstrap, so intervals are reproducible.")

    @field_validator("pairwise", "rubric", "closed_qa")
    @classmethod
    def _named(cls, value: str | bool) -> str | bool:
        if isinstance(value, str) and not value.strip():
            raise ValueError("give a template name or path, or false")
        return value

    @field_validator("models")
    @classmethod
    def _distinct_judges(cls, models: list[str] | None) -> list[str] | None:
        if models is None:
            return None
        repeated = sorted({name for name in models if models.count(name) > 1})
        if repeated:
            raise ValueError(f"the panel names judge(s) {', '.join(repeated)} twice")
        return models

    @model_validator(mode="after")
    def _one_way_to_name_judges(self) -> JudgeConfig:
        if self.model is not None and self.models is not None:
            raise ValueError("give `model` (one judge) or `models` (a panel), not both")
        if self.quorum is not None and self.models is not None and self.quorum > len(self.models):
            raise ValueError(f"quorum {self.quorum} exceeds the panel's {len(self.models)} judges")
        return self

    @property
    def judges(self) -> list[str]:
        """The judge references the suite names: the panel, or the one judge."""
        if self.models is not None:
            return list(self.models)
        return [self.model] if self.model is not None else []

    def template(self, kind: str) -> str | None:
        """The template reference for a grading kind, or None when it is switched off."""
        if kind == "label":
            return self.label.template if self.label is not None else None
        value = getattr(self, kind)
        if value is True:
            return kind
        return value or None


class BatchPriceSpec(StrictModel):
    """A model's price through the Batch API, per 1M tokens."""

    input: float = Field(ge=0, description="Per 1M input tokens sent in batches.")
    output: float = Field(ge=0, description="Per 1M output tokens answered in batches.")


class PriceSpec(StrictModel):
    """A model's inference price, in the price table's currency per 1M tokens."""

    input: float = Field(ge=0, description="Per 1M input (prompt) tokens.")
    output: float = Field(ge=0, description="Per 1M output (completion) tokens.")
    batch: BatchPriceSpec | None = Field(
        default=None, description="Its price through the Batch API (default: half of input and output)."
    )


class CostConfig(StrictModel):
    """Cost projection settings: request volume, price overrides, the fine-tune's training cost."""

    monthly_requests: int | None = Field(default=None, gt=0, description="Requests a month, for the monthly projection.")
    prices: dict[str, PriceSpec] = Field(
        default_factory=dict, description="Prices per run model name or spec, replacing the built-in table's."
    )
    training_cost: float | None = Field(default=None, ge=0, description="What the fine-tune cost to train, for the break-even.")
    training_tokens: int | None = Field(
        default=None, gt=0, description="Tokens in the training file: the training cost is priced from the table instead."
    )
    epochs: float = Field(default=1, gt=0, description="Training epochs, with training_tokens.")


# `${NAME}`: a value taken from the environment when it is used (webhook URLs carry tokens).
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MonitorRule(StrictModel):
    """A rule `harness monitor` checks after every run: a condition that must hold (the gate syntax,
    with `median(N)` of past runs allowed as the threshold). Written as a string or as a mapping."""

    rule: str = Field(
        description="What must hold, e.g. `pass_rate >= 90%`, `latency_p95 <= 2.5` or "
        "`pass_rate >= median(10) - 5%` (no more than 5 points below the median of the last 10 runs)."
    )
    name: str | None = Field(default=None, description="Name shown in alerts and the Prometheus `rule` label (default: the rule).")
    retrain: bool = Field(default=False, description="A retraining trigger: its alerts say so and carry `retrain: true`.")


class MonitorConfig(StrictModel):
    """Drift and threshold rules for `harness monitor`, and where its alerts go."""

    rules: list[MonitorRule] = Field(
        default_factory=list, description="Rules checked after every run; a failed run always counts as a broken rule."
    )
    webhook: str | None = Field(
        default=None,
        description="http(s) URL that receives every alert as a JSON POST; `${NAME}` takes it from an environment variable.",
    )
    window: int = Field(default=10, ge=1, le=1000, description="Past runs behind `median` when a rule gives no `median(N)`.")
    webhook_retries: int = Field(default=3, ge=0, le=10, description="Retries of a webhook POST that fails (backoff 1 s, 2 s, 4 s...).")
    webhook_timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for the webhook to answer.")

    @field_validator("rules", mode="before")
    @classmethod
    def _rule_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"rule": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("webhook")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or ENV_REFERENCE.fullmatch(value.strip()):
            return value
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook: '{value}' is not an http(s) URL (or a ${{NAME}} environment variable)")
        return value.strip()



class SuiteFile(StrictModel):
    """A suite file's top level."""

    name: str | None = Field(default=None, description="Suite name; defaults to the file's stem.")
    description: str | None = Field(default=None, description="Free text shown in reports.")
    system: str | None = Field(default=None, description="System prompt for cases that have none.")
    generation: GenerationParams = Field(default_factory=GenerationParams, description="Default sampling parameters.")
    models: dict[str, ModelConfig] = Field(default_factory=dict, description="Named models under test.")
    baseline: str | None = Field(default=None, description="Model name or spec the candidates are compared with.")
    ranking: Literal["baseline", "round_robin"] | None = Field(
        default=None,
        description="Which pairs the judge compares: each candidate with the baseline (default), or every pair of "
        "models in both orders (round_robin); --ranking overrides.",
    )
    defaults: CaseFields = Field(default_factory=CaseFields, description="Fields applied to every case.")
    cases: list[CaseSpec] = Field(default_factory=list, description="Inline cases.")
    sources: list[SourceSpec] = Field(default_factory=list, description="Files expanded into cases.")
    metrics: list[MetricConfig] = Field(
        default_factory=list,
        description="Reference metrics to compute, each a name or {name, options}; default: every text metric "
        "when cases have references, classification when `labels` is set.",
    )
    labels: list[str] | None = Field(
        default=None, description="Class labels: references are labels and outputs are mapped onto them (classification)."
    )
    judge: JudgeConfig | None = Field(default=None, description="LLM-as-judge settings.")
    gates: list[str] = Field(default_factory=list, description="Gate expressions deciding the exit code.")
    cost: CostConfig | None = Field(default=None, description="Cost projection: monthly volume, prices, training cost.")
    engine: EngineConfig | None = Field(
        default=None, description="How answers are generated: `{ray: {...}}` runs hf: models on a Ray cluster."
    )
    training_data: list[str] = Field(
        default_factory=list,
        description="Fine-tuning data the models under test were trained on (a path or a list, relative to the "
        "suite); `harness run` warns when cases appear in it, `harness data contamination` checks against it.",
    )
    monitor: MonitorConfig | None = Field(
        default=None, description="Rules and alerts for `harness monitor` (drift against past runs, thresholds, webhook)."
    )

    @field_validator("training_data", mode="before")
    @classmethod
    def _one_or_more_paths(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _no_yaml_booleans(cls, value: Any) -> Any:
        if isinstance(value, list) and any(isinstance(item, bool) for item in value):
            raise ValueError("YAML reads yes/no/true/false as booleans: quote labels like these ('yes')")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, labels: list[str] | None) -> list[str] | None:
        return None if labels is None else check_labels(labels)

    @field_validator("models", mode="before")
    @classmethod
    def _spec_shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {name: {"spec": cfg} if isinstance(cfg, str) else cfg for name, cfg in value.items()}
        return value
