"""Model spec strings: `ft:...`, `openai:NAME`, plain OpenAI names, `hf:BASE[+ADAPTER...]`, `predictions:FILE`,
`run:RUN-DIR[#MODEL]`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from harness.errors import UsageError

AdapterKind = Literal["openai", "hf", "predictions", "run"]

# Bare names we accept as OpenAI models without the `openai:` prefix.
_OPENAI_NAME = re.compile(r"^(gpt-|chatgpt-|o\d|text-|davinci|babbage|codex-|computer-use-)", re.IGNORECASE)

SPEC_HELP = (
    "use ft:<base>:<org>:<suffix>:<id>, openai:<name> (any OpenAI-compatible endpoint), a plain OpenAI name "
    "such as gpt-4o-mini, hf:<path-or-id>[+<lora-dir>], predictions:<file.jsonl>, run:<run-dir>[#model], or a model name from the suite's `models:`"
)


@dataclass(frozen=True)
class FineTunedId:
    """The parts of an OpenAI fine-tuned model id."""

    base: str
    org: str
    suffix: str
    job_id: str


@dataclass(frozen=True)
class ModelSpec:
    raw: str
    kind: AdapterKind
    target: str  # openai: model id sent to the API; hf: base model; predictions: file path; run: run directory
    adapters: tuple[str, ...] = field(default=())  # hf: LoRA adapter directories
    recorded_model: str | None = None  # run: the model of the recorded run (`#MODEL`), None when not given
    fine_tuned: FineTunedId | None = None

    @property
    def base_model(self) -> str:
        """The model that pricing and capabilities follow (the base of a fine-tune)."""
        return self.fine_tuned.base if self.fine_tuned else self.target


def parse_fine_tuned(model_id: str) -> FineTunedId:
    parts = model_id.split(":")
    if len(parts) < 3 or parts[0] != "ft" or not parts[1]:
        raise UsageError(f"malformed fine-tuned model id '{model_id}': expected ft:<base>:<org>:<suffix>:<id>")
    padded = [*parts[1:], "", "", ""]
    return FineTunedId(base=padded[0], org=padded[1], suffix=padded[2], job_id=padded[3])


def parse_spec(text: str) -> ModelSpec:
    """Parse a spec string. Raises UsageError naming the accepted forms."""
    spec = text.strip()
    if not spec:
        raise UsageError(f"empty model spec: {SPEC_HELP}")
    if spec.startswith("ft:"):
        return ModelSpec(spec, "openai", spec, fine_tuned=parse_fine_tuned(spec))
    prefix, sep, rest = spec.partition(":")
    if sep and prefix == "openai":
        if not rest:
            raise UsageError(f"model spec '{spec}' names no model: use openai:<name>")
        fine_tuned = parse_fine_tuned(rest) if rest.startswith("ft:") else None
        return ModelSpec(spec, "openai", rest, fine_tuned=fine_tuned)
    if sep and prefix == "hf":
        base, *adapters = rest.split("+")
        if not base or any(not a for a in adapters):
            raise UsageError(f"model spec '{spec}': expected hf:<path-or-id> or hf:<base>+<adapter-dir>")
        return ModelSpec(spec, "hf", base, adapters=tuple(adapters))
    if sep and prefix == "predictions":
        if not rest:
            raise UsageError(f"model spec '{spec}' names no file: use predictions:<file.jsonl>")
        return ModelSpec(spec, "predictions", rest)
    if sep and prefix == "run":
        # The first `#` separates the model, which may hold more (a model that was itself `run:...#m`);
        # run directories are named without one (run/store.slug).
        path, hash_sign, model = rest.partition("#")
        if not path or (hash_sign and not model):
            raise UsageError(f"model spec '{spec}': expected run:<run-dir> or run:<run-dir>#<model>")
        return ModelSpec(spec, "run", path, recorded_model=model or None)
    if _OPENAI_NAME.match(spec) and ":" not in spec:
        return ModelSpec(spec, "openai", spec)
    raise UsageError(f"unknown model spec '{spec}'{spec_suggestion(spec)}: {SPEC_HELP}")


_PREFIXES = ("openai", "hf", "predictions", "run", "ft")
_COMMON_NAMES = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-3.5-turbo", "o1", "o3-mini", "o4-mini")


def spec_suggestion(spec: str) -> str:
    """` (did you mean 'openai:gpt-4o'?)` for a mistyped prefix or OpenAI name, else ``."""
    import difflib

    prefix, sep, rest = spec.partition(":")
    if sep:
        close = difflib.get_close_matches(prefix.lower(), _PREFIXES, n=1, cutoff=0.5)
        return f" (did you mean '{close[0]}:{rest}'?)" if close else ""
    close = difflib.get_close_matches(spec.lower(), _COMMON_NAMES, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""
