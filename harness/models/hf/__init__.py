"""`hf:<base>` and `hf:<base>+<lora-dir>[+<lora-dir>...]`: local Hugging Face causal LMs with peft LoRA adapters.

`build_adapters` gets every `hf:` model of a run at once. Models on the same base (and device,
dtype, revision) share one `SharedBase`: the base is loaded once and each adapter is attached
to it by name, so `hf:B`, `hf:B+A1` and `hf:B+A2` cost one base model of memory and load time.
Everything a user can get wrong in the files (missing directory, not an adapter, an adapter
for another base) is checked here without loading weights; the weights load on first use.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence

import orjson

from harness.errors import UsageError
from harness.models.base import ModelAdapter
from harness.models.hf.checkpoint import base_signature, has_chat_template, inspect_adapter, locate_base
from harness.models.hf.options import HFOptions, parse_options
from harness.models.hf.prompts import compile_plain_template, prompt_format
from harness.models.registry import AdapterSettings
from harness.models.resolve import ResolvedModel

REQUIRED_PACKAGES = ("torch", "transformers", "peft", "safetensors")
INSTALL_HINT = "pip install 'harness[local]' (in a checkout: bash scripts/setup.sh local)"


def require_local_extra(model_name: str) -> None:
    missing = [name for name in REQUIRED_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"model '{model_name}': hf: models need {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            f"not installed: {INSTALL_HINT}"
        )


def _prompt_signature(options: HFOptions) -> str:
    """Options that change the prompt text or the default length, hashed into the fingerprint."""
    payload = [options.prompt_format, options.chat_template, options.plain_template, options.max_new_tokens]
    return hashlib.sha256(orjson.dumps(payload)).hexdigest()[:12]


def check_prompt_options(model: ResolvedModel, options: HFOptions, template_known: bool | None) -> None:
    try:
        compile_plain_template(options.plain_template)
    except ValueError as exc:
        raise UsageError(f"model '{model.name}': options.plain_template: {exc}") from None
    if template_known is not None:
        try:
            prompt_format(options, template_known)
        except ValueError as exc:
            raise UsageError(f"model '{model.name}': {exc}") from None


def build_adapters(models: Sequence[ResolvedModel], settings: AdapterSettings) -> list[ModelAdapter]:
    if not models:
        return []
    require_local_extra(models[0].name)
    # torch is imported from here on, and only for runs with hf: models.
    from harness.models.hf.adapter import HFModelAdapter
    from harness.models.hf.engine import SharedBase, resolve_device, resolve_dtype

    shared: dict[tuple[str, str | None, str, str, bool], SharedBase] = {}
    adapters: list[ModelAdapter] = []
    for model in models:
        options = parse_options(model.name, model.config.options)
        base = locate_base(model, options)
        checkpoints = [inspect_adapter(model, given, base, options) for given in model.spec.adapters]
        check_prompt_options(model, options, has_chat_template(base))
        try:
            device = resolve_device(options.device)
        except ValueError as exc:
            raise UsageError(f"model '{model.name}': options.device: {exc}") from None
        dtype = resolve_dtype(options.dtype, device)
        key = (base.source, base.revision, device, dtype, options.trust_remote_code)
        if key not in shared:
            shared[key] = SharedBase(base, device, dtype, options.trust_remote_code)
        names = tuple(shared[key].attach(checkpoint) for checkpoint in checkpoints)
        fingerprint = "".join(
            [
                f"hf:{base_signature(base)}",
                *(f"+lora:{c.digest[:16]}" for c in checkpoints),
                f";{dtype};{device.partition(':')[0]};prompt:{_prompt_signature(options)}",
            ]
        )
        adapters.append(HFModelAdapter(model, options, shared[key], names, fingerprint))
    return adapters
