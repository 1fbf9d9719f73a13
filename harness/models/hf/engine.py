"""One base model in memory, shared by every `hf:` model of a run built on it.

The base is loaded once; each LoRA adapter of the run is attached to it under its own name
(peft multi-adapter). A batch runs with the adapters of its model switched on, or with all
adapters disabled for the plain base. Switching is state on the shared model, so callers hold
`lock` around a whole batch. torch, transformers and peft are imported here and only here.
"""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import torch

from harness.models.hf.checkpoint import AdapterCheckpoint, BaseCheckpoint

# torch's global RNG is what sampling draws from: seeding and sampling must not interleave
# between two bases generating in two threads.
_RNG_LOCK = threading.Lock()


class LoadError(Exception):
    """The base model or an adapter could not be loaded; the message is one line."""


class GenerationOutOfMemory(Exception):
    """The device ran out of memory for this batch."""


@dataclass(frozen=True)
class DecodeSettings:
    """How one batch is decoded; every prompt of a batch shares them."""

    max_new_tokens: int
    temperature: float | None = None  # None or 0: greedy
    top_p: float | None = None
    seed: int = 0
    stop: tuple[str, ...] = ()

    @property
    def sampling(self) -> bool:
        return bool(self.temperature)


@dataclass(frozen=True)
class Generated:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # stop | length


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def resolve_device(requested: str) -> str:
    """`auto` becomes cuda, then mps, then cpu. Raises ValueError for a device this machine lacks."""
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {requested} requested but CUDA is not available (torch {torch.__version__})")
        index = int(requested.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise ValueError(f"device {requested} requested but only {torch.cuda.device_count()} CUDA devices exist")
    if requested == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError("device mps requested but MPS is not available on this machine")
    return requested


def resolve_dtype(requested: str, device: str) -> str:
    """`auto` is bfloat16 on a CUDA GPU that supports it, float32 everywhere else."""
    if requested != "auto":
        return requested
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return "bfloat16"
    return "float32"


_QUIETED = False


def _quiet_libraries() -> None:
    """Progress bars and advice from transformers/peft would tear through the run's own display."""
    global _QUIETED
    if _QUIETED:
        return
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:  # pragma: no cover - huggingface_hub always comes with transformers
        pass
    warnings.filterwarnings("ignore", module=r"(transformers|peft)(\.|$)")
    _QUIETED = True


class _StopWhen:
    """A stopping criterion that ends the whole batch when `should_stop()` turns true (cancellation)."""

    def __init__(self, should_stop: Callable[[], bool]) -> None:
        self.should_stop = should_stop

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.should_stop(), dtype=torch.bool, device=input_ids.device)


class SharedBase:
    """A base model and the adapters attached to it; loaded on first use, released by the last user."""

    def __init__(self, base: BaseCheckpoint, device: str, dtype: str, trust_remote_code: bool) -> None:
        self.base = base
        self.device = device
        self.dtype = dtype
        self.trust_remote_code = trust_remote_code
        self.adapters: dict[str, AdapterCheckpoint] = {}  # peft adapter name -> checkpoint
        self.lock = threading.Lock()
        self.users = 0
        self.tokenizer: Any = None
        self.model: Any = None  # the PeftModel when there are adapters, else the base
        self._eos_ids: list[int] = []
        self._pad_id: int = 0

    def attach(self, adapter: AdapterCheckpoint) -> str:
        """Register an adapter (once per distinct content) and return its peft name."""
        for name, known in self.adapters.items():
            if known.digest == adapter.digest:
                return name
        name = f"adapter{len(self.adapters)}"
        self.adapters[name] = adapter
        return name

    @property
    def max_positions(self) -> int | None:
        config = self.model.config
        for attribute in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
            value = getattr(config, attribute, None)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def ensure_loaded(self) -> None:
        """Load tokenizer, base and adapters. Call with `lock` held. Raises LoadError."""
        if self.model is not None:
            return
        import transformers

        _quiet_libraries()
        common: dict[str, Any] = {"revision": self.base.revision, "trust_remote_code": self.trust_remote_code}
        shown = self.base.shown
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.base.source, **common)
        except Exception as exc:
            raise LoadError(f"could not load the tokenizer of '{shown}': {first_line(exc)}") from None
        tokenizer.padding_side = "left"  # generation continues from the right end of every row
        try:
            placement = {} if self.device == "cpu" else {"device_map": self.device}
            model = transformers.AutoModelForCausalLM.from_pretrained(
                self.base.source, dtype=getattr(torch, self.dtype), **placement, **common
            )
        except Exception as exc:
            raise LoadError(f"could not load base model '{shown}': {first_line(exc)}") from None
        model.eval()
        if self.adapters:
            model = self._attach_adapters(model)
        eos = model.generation_config.eos_token_id
        if eos is None:
            eos = tokenizer.eos_token_id
        self._eos_ids = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
        if tokenizer.pad_token_id is None:  # common for causal LMs: pad with EOS, as generate() does
            if not self._eos_ids:
                raise LoadError(f"the tokenizer of '{shown}' has neither a padding nor an end-of-sequence token")
            tokenizer.pad_token = tokenizer.convert_ids_to_tokens(self._eos_ids[0])
        self._pad_id = int(tokenizer.pad_token_id)
        self.tokenizer, self.model = tokenizer, model

    def _attach_adapters(self, model: Any) -> Any:
        from peft import PeftModel

        peft_model: Any = None
        for name, adapter in self.adapters.items():
            try:
                if peft_model is None:
                    peft_model = PeftModel.from_pretrained(model, str(adapter.path), adapter_name=name, is_trainable=False)
                else:
                    peft_model.load_adapter(str(adapter.path), adapter_name=name, is_trainable=False)
            except Exception as exc:
                raise LoadError(
                    f"adapter '{adapter.given}' does not fit base model '{self.base.shown}': {first_line(exc)}"
                ) from None
        peft_model.eval()
        return peft_model

    def token_counts(self, prompts: Sequence[str], add_special_tokens: bool) -> list[int]:
        encoded = self.tokenizer(list(prompts), add_special_tokens=add_special_tokens)["input_ids"]
        return [len(ids) for ids in encoded]

    def _adapters_on(self, active: Sequence[str]) -> AbstractContextManager[Any]:
        if not self.adapters:
            return nullcontext()
        if not active:
            return self.model.disable_adapter()  # type: ignore[no-any-return]
        if len(active) == 1:
            self.model.set_adapter(active[0])
        else:  # stacked adapters (hf:base+a+b): LoRA sums the active adapters' updates
            self.model.base_model.set_adapter(list(active))
        return nullcontext()

    def generate(
        self,
        active: Sequence[str],
        prompts: Sequence[str],
        add_special_tokens: bool,
        settings: DecodeSettings,
        should_stop: Callable[[], bool],
        threads: int | None = None,
    ) -> list[Generated]:
        """Decode one batch. Call with `lock` held. Raises GenerationOutOfMemory."""
        from transformers import StoppingCriteriaList

        if threads is not None:
            torch.set_num_threads(threads)  # in the thread that runs the kernels

        batch = self.tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=add_special_tokens)
        # Only what every causal LM's generate() takes (some tokenizers add token_type_ids).
        encoded = {key: batch[key].to(self.model.device) for key in ("input_ids", "attention_mask")}
        config = self._generation_config(settings)
        extra: dict[str, Any] = {}
        if settings.stop:
            extra = {"stop_strings": list(settings.stop), "tokenizer": self.tokenizer}
        criteria = StoppingCriteriaList([_StopWhen(should_stop)])
        rng = _RNG_LOCK if settings.sampling else nullcontext()
        try:
            with rng, torch.inference_mode(), self._adapters_on(active):
                if settings.sampling:
                    torch.manual_seed(settings.seed)
                output = self.model.generate(**encoded, generation_config=config, stopping_criteria=criteria, **extra)
        except torch.OutOfMemoryError as exc:
            self._free_device_memory()
            raise GenerationOutOfMemory(first_line(exc)) from None
        except RuntimeError as exc:
            if "out of memory" not in str(exc).lower():  # MPS reports OOM as a plain RuntimeError
                raise
            self._free_device_memory()
            raise GenerationOutOfMemory(first_line(exc)) from None
        width = encoded["input_ids"].shape[1]
        prompt_lengths = encoded["attention_mask"].sum(dim=1).tolist()
        return [
            self._decode(row[width:].tolist(), int(length), settings)
            for row, length in zip(output, prompt_lengths, strict=True)
        ]

    def _generation_config(self, settings: DecodeSettings) -> Any:
        config = self.model.generation_config.__class__.from_dict(self.model.generation_config.to_dict())
        config.max_new_tokens = settings.max_new_tokens
        config.max_length = None
        config.pad_token_id = self._pad_id
        config.eos_token_id = self._eos_ids or None
        config.num_beams = 1
        config.top_k = None  # the OpenAI parameters have no top-k; a model's default one would skew sampling
        if settings.sampling:
            config.do_sample = True
            config.temperature = settings.temperature
            config.top_p = settings.top_p if settings.top_p is not None else 1.0
        else:  # greedy, whatever sampling defaults the model's generation_config.json carries
            config.do_sample = False
            config.temperature = None
            config.top_p = None
        return config

    def _decode(self, ids: list[int], prompt_tokens: int, settings: DecodeSettings) -> Generated:
        finish = "length"
        for index, token in enumerate(ids):
            if token in self._eos_ids:
                ids, finish = ids[:index], "stop"
                break
        while ids and ids[-1] == self._pad_id:  # rows that finished early are padded
            ids = ids[:-1]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        cut = min((position for stop in settings.stop if (position := text.find(stop)) >= 0), default=-1)
        if cut >= 0:
            text, finish = text[:cut], "stop"
        return Generated(text.strip(), prompt_tokens, len(ids), finish)

    def _free_device_memory(self) -> None:
        gc.collect()
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    def release(self) -> None:
        """One user is done; the last one frees the model."""
        self.users -= 1
        if self.users <= 0 and self.model is not None:
            self.model = None
            self.tokenizer = None
            self._free_device_memory()
