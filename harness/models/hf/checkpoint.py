"""Find and check the files of an `hf:` model before anything is loaded.

Everything here reads JSON and safetensors headers only (no torch), so a misnamed directory,
a folder that is not an adapter, or an adapter trained for another base model fails at once
with one line, before the run starts and without loading gigabytes of weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.models.hf.options import HFOptions
from harness.models.resolve import ResolvedModel

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
# Files up to this size are hashed into the base model's fingerprint; larger ones (weight shards
# of billions of parameters) by size and modification time, since hashing them on every run
# would cost more than the cache saves.
HASHED_FILE_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class BaseCheckpoint:
    """Where a base model comes from: a local directory or a hub id (with its cached snapshot, if any)."""

    given: str  # as written in the spec
    source: str  # what from_pretrained receives: an absolute directory or a hub id
    local_dir: Path | None  # files on disk to inspect; None for a hub model not downloaded yet
    revision: str | None
    is_hub: bool

    @property
    def shown(self) -> str:
        return self.given


@dataclass(frozen=True)
class AdapterCheckpoint:
    """A peft LoRA adapter directory, checked against its base."""

    given: str
    path: Path
    config: dict[str, Any]
    digest: str  # sha256 of the config and the weights: a retrained adapter gets a new one


def _looks_like_path(value: str) -> bool:
    # Hub ids are `name` or `org/name`; anything else is meant as a file system path.
    return value.startswith((".", "/", "~")) or "\\" in value or value.count("/") > 1 or value.endswith("/")


def _hub_snapshot(repo_id: str, revision: str | None) -> Path | None:
    """The locally cached snapshot of a hub model, without touching the network."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
    except Exception:  # not cached, malformed id, or no huggingface_hub: the loader will say
        return None


def locate_base(model: ResolvedModel, options: HFOptions) -> BaseCheckpoint:
    given = model.spec.target
    path = model.resolve_path(given)
    if path.is_dir():
        _require_model_dir(model.name, given, path)
        return BaseCheckpoint(given, str(path.resolve()), path.resolve(), options.revision, is_hub=False)
    if path.exists():
        raise UsageError(f"model '{model.name}': base model '{given}' is a file; give the model's directory")
    if _looks_like_path(given):
        raise UsageError(f"model '{model.name}': base model directory '{given}' not found (looked at {path})")
    snapshot = _hub_snapshot(given, options.revision)
    if snapshot is None and os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise UsageError(
            f"model '{model.name}': '{given}' is neither a local directory (looked at {path}) "
            "nor a downloaded hub model, and HF_HUB_OFFLINE is set"
        )
    if snapshot is None:  # transformers downloads it when the model first loads
        _confirm_on_hub(model.name, given, path, options.revision)
        return BaseCheckpoint(given, given, None, options.revision, is_hub=True)
    # Load the cached snapshot itself: no network round trip, and the fingerprint names its commit.
    _require_model_dir(model.name, given, snapshot)
    return BaseCheckpoint(given, str(snapshot), snapshot, options.revision, is_hub=True)


def _confirm_on_hub(model_name: str, given: str, path: Path, revision: str | None) -> None:
    """One quick request to the hub for a model not downloaded yet: a typo or no network fails
    here in a second instead of after the loader's retries, a minute into the run."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    where = f"model '{model_name}': '{given}' is not a local directory (looked at {path})"
    try:
        HfApi().model_info(given, revision=revision, timeout=10)
    except GatedRepoError:
        raise UsageError(f"{where}; the hub model is gated: accept its terms, then log in (hf auth login or HF_TOKEN)") from None
    except RepositoryNotFoundError:
        raise UsageError(f"{where} nor a model on the Hugging Face hub (if it is private: log in, or set HF_TOKEN)") from None
    except RevisionNotFoundError:
        raise UsageError(f"{where}, and the hub model has no revision '{revision}'") from None
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"{where}, and the Hugging Face hub could not be reached to download it: {reason}") from None


def _require_model_dir(model_name: str, given: str, path: Path) -> None:
    if (path / "config.json").is_file():
        return
    if (path / ADAPTER_CONFIG).is_file():
        raise UsageError(
            f"model '{model_name}': '{given}' is a LoRA adapter, not a base model: use hf:<base>+{given}"
        )
    raise UsageError(f"model '{model_name}': '{given}' has no config.json: not a Hugging Face model directory")


def has_chat_template(base: BaseCheckpoint) -> bool | None:
    """Whether the base's tokenizer ships a chat template; None when its files are not on disk."""
    folder = base.local_dir
    if folder is None:
        return None
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    config = folder / "tokenizer_config.json"
    if config.is_file():
        try:
            return bool(json.loads(config.read_text(encoding="utf-8")).get("chat_template"))
        except (OSError, ValueError):
            return None
    return False


def _name_key(name: str) -> str:
    """`meta-llama/Llama-3.1-8B` and `/models/llama-3.1-8b/` both become `llama318b`."""
    return re.sub(r"[^a-z0-9]", "", Path(name.rstrip("/\\")).name.lower())


def _read_config(model_name: str, given: str, path: Path) -> dict[str, Any]:
    try:
        config = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UsageError(f"model '{model_name}': {given}/{ADAPTER_CONFIG} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise UsageError(f"model '{model_name}': {given}/{ADAPTER_CONFIG} is not a JSON object")
    return config


def inspect_adapter(model: ResolvedModel, given: str, base: BaseCheckpoint, options: HFOptions) -> AdapterCheckpoint:
    """Check an adapter directory and that it was trained for `base`; raise one clear UsageError if not."""
    path = model.resolve_path(given).resolve()
    if not path.is_dir():
        raise UsageError(f"model '{model.name}': adapter directory '{given}' not found (looked at {path})")
    if not (path / ADAPTER_CONFIG).is_file():
        raise UsageError(f"model '{model.name}': '{given}' is not a peft adapter directory: it has no {ADAPTER_CONFIG}")
    config = _read_config(model.name, given, path)
    peft_type = str(config.get("peft_type", "")).upper()
    if peft_type != "LORA":
        raise UsageError(f"model '{model.name}': '{given}' is a {peft_type or 'unknown'} adapter; only LoRA adapters are supported")
    weights = next((path / name for name in ADAPTER_WEIGHTS if (path / name).is_file()), None)
    if weights is None:
        raise UsageError(f"model '{model.name}': '{given}' has no {' or '.join(ADAPTER_WEIGHTS)}")
    trained_on = config.get("base_model_name_or_path")
    if options.check_base_name and isinstance(trained_on, str) and trained_on:
        names = {_name_key(base.given), _name_key(base.source)}
        if _name_key(trained_on) not in names:
            raise UsageError(
                f"model '{model.name}': adapter '{given}' was trained on '{trained_on}', not on '{base.given}' "
                "(if they are the same model under another name, set options.check_base_name: false)"
            )
    if weights.suffix == ".safetensors":
        try:
            adapter_shapes = _safetensors_shapes(weights)
        except Exception as exc:
            raise UsageError(f"model '{model.name}': {given}/{weights.name} is not a readable safetensors file: {exc}") from None
    if weights.suffix == ".safetensors" and base.local_dir is not None:
        mismatch = _first_shape_mismatch(adapter_shapes, base.local_dir, bool(config.get("fan_in_fan_out")))
        if mismatch is not None:
            raise UsageError(
                f"model '{model.name}': adapter '{given}' does not fit base '{base.given}': {mismatch} "
                "(the adapter was trained for another base model)"
            )
    digest = hashlib.sha256()
    digest.update((path / ADAPTER_CONFIG).read_bytes())
    _hash_file(digest, weights)
    return AdapterCheckpoint(given, path, config, digest.hexdigest())


def _hash_file(digest: Any, path: Path) -> None:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def _safetensors_shapes(path: Path) -> dict[str, list[int]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        return {key: list(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118


def _base_shapes(folder: Path) -> dict[str, list[int]]:
    """Tensor shapes of the base checkpoint from safetensors headers; {} when it has none."""
    index = folder / "model.safetensors.index.json"
    files: list[Path] = []
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8")).get("weight_map", {})
        files = [folder / name for name in sorted(set(weight_map.values()))]
    elif (folder / "model.safetensors").is_file():
        files = [folder / "model.safetensors"]
    shapes: dict[str, list[int]] = {}
    for file in files:
        try:
            shapes.update(_safetensors_shapes(file))
        except Exception:  # unreadable: loading the base will report it with the loader's own message
            return {}
    return shapes


def _lora_pairs(shapes: dict[str, list[int]]) -> Iterator[tuple[str, list[int], list[int], bool]]:
    """(module path, A shape, B shape, is_embedding) for each LoRA pair in an adapter file."""
    for key, a_shape in shapes.items():
        for a_part, b_part, embedding in ((".lora_A.weight", ".lora_B.weight", False), (".lora_embedding_A", ".lora_embedding_B", True)):
            if key.endswith(a_part):
                module = key[: -len(a_part)]
                b_shape = shapes.get(module + b_part)
                if b_shape is not None:
                    yield module.removeprefix("base_model.model."), a_shape, b_shape, embedding


def _first_shape_mismatch(adapter: dict[str, list[int]], base_dir: Path, fan_in_fan_out: bool) -> str | None:
    base = _base_shapes(base_dir)
    if not base:
        return None  # .bin checkpoints: peft checks the shapes when it loads the adapter
    for module, a_shape, b_shape, embedding in _lora_pairs(adapter):
        # Checkpoints saved from the bare model lack the task head's prefix (`model.`, `transformer.`).
        candidates = [module + ".weight", module.partition(".")[2] + ".weight"]
        found = next((base[c] for c in candidates if c in base), None)
        if found is None or len(found) != 2 or len(a_shape) != 2 or len(b_shape) != 2:
            continue  # a module the checkpoint does not store (tied weights): peft decides at load
        if embedding:  # A: [r, num_embeddings], B: [dim, r]; the embedding is [num_embeddings, dim]
            expected = [a_shape[1], b_shape[0]]
        else:  # A: [r, in], B: [out, r]; a Linear weight is [out, in], GPT-2's Conv1D [in, out]
            expected = [a_shape[1], b_shape[0]] if fan_in_fan_out else [b_shape[0], a_shape[1]]
        if found != expected:
            shown = "x".join(map(str, found))
            return f"{module} is {shown} in the base but {'x'.join(map(str, expected))} in the adapter"
    return None


def base_signature(base: BaseCheckpoint) -> str:
    """What identifies the base's weights and tokenizer, for the fingerprint."""
    if base.local_dir is None:
        return f"hub:{base.source}@{base.revision or 'main'}"
    digest = hashlib.sha256()
    for path in sorted(base.local_dir.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() == ".md":
            continue
        digest.update(path.name.encode())
        stat = path.stat()
        if stat.st_size <= HASHED_FILE_LIMIT:
            _hash_file(digest, path)
        else:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    if base.is_hub:
        # A cached snapshot's folder is named after its commit.
        return f"hub:{base.given}@{base.local_dir.name}#{digest.hexdigest()[:16]}"
    return f"{base.source}#{digest.hexdigest()[:16]}"
