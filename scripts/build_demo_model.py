"""Build the offline demo: a tiny causal LM and a LoRA adapter that fine-tunes it, from scratch.

    .venv/bin/python scripts/build_demo_model.py            # writes datasets/support-lm/{base,lora}
    .venv/bin/python scripts/build_demo_model.py --check    # rebuild elsewhere, compare with the shipped files

Everything comes from `datasets/support-lm/training.yaml`: a byte-level BPE tokenizer is trained
on its text, a small Llama is pretrained on the friendly prose answers (the "base model"), and a
LoRA adapter is trained on TechCorp's numbered-steps answers (the "fine-tune"). Seeds, one CPU
thread and deterministic kernels make the build reproducible on one torch version; the built
files are shipped so a fresh machine never trains. `suites/quickstart.yaml` compares the two.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # the tokenizer trainer's thread pool; one thread is deterministic
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
import yaml
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "datasets" / "support-lm"
SUITE = ROOT / "suites" / "quickstart.yaml"

EOS = "<|endoftext|>"
PAD = "<|pad|>"
# The chat format both models are trained on, stored as the tokenizer's chat template so that
# `hf:` models render prompts exactly as in training.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n"
    "{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n"
    "{% else %}Assistant: {{ message['content'] }}{{ eos_token }}\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

SEED = 1234
VOCAB_SIZE = 640
MODEL_SHAPE = {"hidden_size": 96, "intermediate_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4}
PRETRAIN_STEPS = 500
LORA_STEPS = 300
BATCH_SIZE = 16
DOC_REPEATS = 8  # documentation is short; repeating it gives it a fair share of the pretraining batches


def load_training_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DATA / "training.yaml").read_text(encoding="utf-8"))
    return data


def examples(data: dict[str, Any], answer_key: str) -> list[tuple[list[dict[str, str]], str]]:
    """(prompt messages, answer) pairs, each question asked with and without the system prompt."""
    pairs: list[tuple[list[dict[str, str]], str]] = []
    for topic in data["topics"].values():
        answers = topic[answer_key] if isinstance(topic[answer_key], list) else [topic[answer_key]]
        for question in topic["questions"]:
            for answer in answers:
                for system in (data["system"], None):
                    messages = [{"role": "user", "content": question}]
                    if system:
                        messages.insert(0, {"role": "system", "content": system})
                    pairs.append((messages, answer))
    if answer_key == "base_answers":
        for chat in data["chat"]:
            for system in (data["system"], None):
                messages = [{"role": "user", "content": chat["question"]}]
                if system:
                    messages.insert(0, {"role": "system", "content": system})
                pairs.append((messages, chat["answer"]))
    return pairs


def encode_documents(tokenizer: Any, data: dict[str, Any]) -> list[tuple[list[int], int]]:
    """Documentation as plain text with the loss on every token: how the base learns the product's words."""
    docs = [doc for topic in data["topics"].values() for doc in topic["docs"]]
    return [(tokenizer(doc + EOS, add_special_tokens=False)["input_ids"], 0) for doc in docs]


def check_held_out(data: dict[str, Any]) -> None:
    """The quickstart suite must ask questions the models never saw in training."""
    suite = yaml.safe_load(SUITE.read_text(encoding="utf-8"))
    trained = {q.strip().lower() for topic in data["topics"].values() for q in topic["questions"]}
    trained |= {chat["question"].strip().lower() for chat in data["chat"]}
    seen = [case["input"] for case in suite["cases"] if case["input"].strip().lower() in trained]
    if seen:
        sys.exit(f"suites/quickstart.yaml asks training questions: {seen}")


def build_tokenizer(data: dict[str, Any], out: Path) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = [data["system"]]
    for topic in data["topics"].values():
        texts += topic["docs"] + topic["questions"] + topic["base_answers"] + [topic["steps"]]
    texts += [c["question"] for c in data["chat"]] + [c["answer"] for c in data["chat"]]
    texts += ["User:", "Assistant:"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token=EOS, bos_token=EOS, pad_token=PAD, chat_template=CHAT_TEMPLATE
    )
    fast.save_pretrained(out)
    return fast


def encode(tokenizer: Any, pairs: list[tuple[list[dict[str, str]], str]]) -> list[tuple[list[int], int]]:
    """Token ids of prompt + answer + EOS, and where the answer starts (the loss covers only the answer)."""
    encoded = []
    for messages, answer in pairs:
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(" " + answer + EOS, add_special_tokens=False)["input_ids"]
        encoded.append((prompt_ids + answer_ids, len(prompt_ids)))
    return encoded


def batch(encoded: list[tuple[list[int], int]], pad_id: int, width: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(encoded), width), dtype=torch.long)
    labels = torch.full((len(encoded), width), -100, dtype=torch.long)
    for row, (ids, answer_start) in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        labels[row, answer_start : len(ids)] = torch.tensor(ids[answer_start:])
    return input_ids, attention, labels


def train(model: Any, encoded: list[tuple[list[int], int]], pad_id: int, steps: int, lr: float, label: str) -> float:
    rng = random.Random(SEED)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.1)
    # One padded width for every batch: CPU kernels are prepared per input shape, and a new
    # shape each step makes training several times slower.
    width = max(len(ids) for ids, _ in encoded)
    model.train()
    loss_value = float("nan")
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} loss {task.fields[loss]}"), TimeElapsedColumn())
    with Progress(*columns) as progress:
        task = progress.add_task(label, total=steps, loss="-")
        order: list[int] = []
        for _ in range(steps):
            if len(order) < BATCH_SIZE:
                order += rng.sample(range(len(encoded)), len(encoded))
            picked, order = order[:BATCH_SIZE], order[BATCH_SIZE:]
            input_ids, attention, labels = batch([encoded[i] for i in picked], pad_id, width)
            loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, 1.0)
            optimizer.step()
            schedule.step()
            loss_value = float(loss.detach())
            progress.update(task, advance=1, loss=f"{loss_value:.3f}")
    model.eval()
    return loss_value


def build(out: Path) -> None:
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig, LlamaForCausalLM

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    warnings.filterwarnings("ignore", module=r"(transformers|peft)(\.|$)")
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    data = load_training_data()
    check_held_out(data)
    base_dir, lora_dir = out / "base", out / "lora"
    tokenizer = build_tokenizer(data, base_dir)
    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        num_key_value_heads=MODEL_SHAPE["num_attention_heads"],
        max_position_embeddings=256,
        tie_word_embeddings=True,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        **MODEL_SHAPE,
    )
    model = LlamaForCausalLM(config)
    corpus = encode(tokenizer, examples(data, "base_answers")) + DOC_REPEATS * encode_documents(tokenizer, data)
    loss = train(model, corpus, pad_id, PRETRAIN_STEPS, 3e-3, "base model")
    print(f"base model: {sum(p.numel() for p in model.parameters()):,} parameters, final loss {loss:.3f}")
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id, bos_token_id=eos_id)
    model.save_pretrained(base_dir)

    # The adapter is trained on the base exactly as shipped, loaded the way users load it.
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    lora = LoraConfig(
        r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        task_type="CAUSAL_LM",
    )
    tuned = get_peft_model(base, lora)
    loss = train(tuned, encode(tokenizer, examples(data, "steps")), pad_id, LORA_STEPS, 3e-3, "LoRA adapter")
    trainable = sum(p.numel() for p in tuned.parameters() if p.requires_grad)
    print(f"LoRA adapter: {trainable:,} trainable parameters, final loss {loss:.3f}")
    tuned.save_pretrained(lora_dir)
    (lora_dir / "README.md").unlink(missing_ok=True)  # peft's model-card template; it says nothing about this adapter
    # peft records the base as the path it was loaded from (a temporary folder under --check);
    # record where it is shipped instead, so the files do not depend on where they were built.
    config_path = lora_dir / "adapter_config.json"
    adapter_config = json.loads(config_path.read_text(encoding="utf-8"))
    adapter_config["base_model_name_or_path"] = "support-lm/base"
    adapter_config["target_modules"] = sorted(adapter_config["target_modules"])  # a set in peft: any order
    config_path.write_text(json.dumps(adapter_config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in sorted(folder.iterdir()) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DATA, help="where base/ and lora/ are written")
    parser.add_argument("--check", action="store_true", help="build in a temporary folder and compare with --out")
    args = parser.parse_args()
    started = time.perf_counter()
    if not args.check:
        for sub in ("base", "lora"):
            shutil.rmtree(args.out / sub, ignore_errors=True)
        build(args.out)
        print(f"built {args.out / 'base'} and {args.out / 'lora'} in {time.perf_counter() - started:.1f}s")
        return
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp))
        differ = [
            f"{sub}/{name}"
            for sub in ("base", "lora")
            for name, value in digest(Path(tmp) / sub).items()
            if digest(args.out / sub).get(name) != value
        ]
    if differ:
        sys.exit(f"rebuilt files differ from the shipped ones: {', '.join(differ)}")
    print(f"rebuilt in {time.perf_counter() - started:.1f}s: identical to {args.out}")


if __name__ == "__main__":
    main()
