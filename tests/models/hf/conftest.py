"""A tiny random causal LM, LoRA adapters for it, and an adapter for another base, built offline once per session."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Nothing in these tests may reach the Hugging Face hub. huggingface_hub reads this when it is
# first imported, so it is set before anything imports it (and patched again per test below).
os.environ["HF_HUB_OFFLINE"] = "1"

if os.environ.get("CI"):  # CI installs the local extra: a missing package there is a failure, not a skip
    import peft  # noqa: F401
    import torch
    import transformers  # noqa: F401
else:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("peft")

from harness.models.base import GenerationParams
from harness.models.hf import build_adapters
from harness.models.registry import AdapterSettings
from harness.models.resolve import ResolvedModel
from harness.models.spec import parse_spec
from harness.suite.schema import ModelConfig

CORPUS = [
    "How do I reset my password? Open the login page and click Forgot Password.",
    "Where are my invoices? Open Billing and pick the month.",
    "The quick brown fox jumps over the lazy dog while the cat sleeps.",
    "User: hello there\nAssistant: hi, how can I help you today?",
    "Numbers one two three four five six seven eight nine ten.",
]

# Prompts of mixed lengths, so batches pad and sort: the generation tests and the Ray tests share them.
QUESTIONS = [
    "How do I reset my password?",
    "Where",
    "The quick brown fox jumps over the lazy dog while the cat sleeps. Where are my invoices?",
    "hello there",
    "Numbers one two three",
    "Open Billing and pick the month.",
    "cat",
    "Where are my invoices? Open the login page.",
    "fox",
    "How do I reset my password? Open the login page and click",
]

CONTEXT = 128  # small on purpose: the context-length error is reachable with a short prompt


@dataclass(frozen=True)
class TinyModels:
    base: Path  # a Llama without a chat template
    lora_a: Path  # LoRA on q_proj/v_proj
    lora_b: Path  # LoRA on o_proj/up_proj
    other_base: Path  # a Llama of another width
    lora_other: Path  # a LoRA trained for other_base


def _tokenizer(folder: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<eos>", "<pad>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="<eos>", pad_token="<pad>").save_pretrained(folder)


def _llama(folder: Path, hidden: int, seed: int) -> None:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    _tokenizer(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=CONTEXT,
        initializer_range=0.3,  # random weights large enough that greedy outputs vary with the prompt
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)


def _lora(base: Path, out: Path, targets: list[str], seed: int) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(out)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    root = tmp_path_factory.mktemp("tiny-lm")
    models = TinyModels(root / "base", root / "lora-a", root / "lora-b", root / "other-base", root / "lora-other")
    _llama(models.base, hidden=32, seed=0)
    _llama(models.other_base, hidden=48, seed=1)
    _lora(models.base, models.lora_a, ["q_proj", "v_proj"], seed=1)
    _lora(models.base, models.lora_b, ["o_proj", "up_proj"], seed=2)
    _lora(models.other_base, models.lora_other, ["q_proj", "v_proj"], seed=3)
    return models


@pytest.fixture(autouse=True)
def offline_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in these tests may reach the Hugging Face hub."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def copy_adapter(source: Path, target: Path, **config_changes: object) -> Path:
    """A copy of an adapter directory with adapter_config.json fields changed."""
    shutil.copytree(source, target)
    config_path = target / "adapter_config.json"
    config = json.loads(config_path.read_text())
    config.update(config_changes)
    config_path.write_text(json.dumps(config))
    return target


def resolved(spec: str, name: str | None = None, options: dict[str, object] | None = None, base_dir: Path | None = None,
             **generation: object) -> ResolvedModel:
    config = ModelConfig(spec=spec, options=options or {})
    return ResolvedModel(name or spec, parse_spec(spec), config, GenerationParams(**generation), base_dir or Path.cwd())


def build(*models: ResolvedModel) -> list:  # type: ignore[type-arg]
    return build_adapters(list(models), AdapterSettings())


@pytest.fixture
def load_counter(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records every base model load (AutoModelForCausalLM.from_pretrained) by path."""
    import transformers

    original = transformers.AutoModelForCausalLM.from_pretrained
    loads: list[str] = []

    def counting(source: str, *args: object, **kwargs: object) -> object:
        loads.append(str(source))
        return original(source, *args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", counting)
    yield loads
