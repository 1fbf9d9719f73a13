"""Generation speed of the hf: adapter: batched vs one prompt at a time, and what one shared base load saves.

    .venv/bin/python bench/hf_generation.py            # demo model and a ~50M-parameter random Llama, on CPU
    .venv/bin/python bench/hf_generation.py --quick    # fewer prompts and tokens

Each figure is measured in a fresh subprocess through the adapter's own code path (options,
prompt rendering, length sorting, batching, decoding), so peak memory (max RSS) belongs to that
configuration alone. Generation time excludes loading: a one-prompt warm-up loads the model
and prepares the CPU kernels first. Tokens/s counts generated tokens (completion_tokens).
Loading figures start after torch/transformers/peft are imported; "models RSS" is the resident
memory added by building and loading the models (one first request each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEMO = ROOT / "datasets" / "support-lm"
RANDOM_SHAPE = {"hidden_size": 768, "intermediate_size": 2048, "num_hidden_layers": 7, "num_attention_heads": 12}


def _questions() -> list[str]:
    import yaml

    data = yaml.safe_load((DEMO / "training.yaml").read_text(encoding="utf-8"))
    questions = [q for topic in data["topics"].values() for q in topic["questions"]]
    return questions


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _rss_mb() -> float:
    """Resident memory now (the peak above also holds transient import-time highs)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _resolved(spec: str, name: str, options: dict[str, Any]) -> Any:
    from harness.models.base import GenerationParams
    from harness.models.resolve import ResolvedModel
    from harness.models.spec import parse_spec
    from harness.suite.schema import ModelConfig

    return ResolvedModel(name, parse_spec(spec), ModelConfig(spec=spec, options=options), GenerationParams(), ROOT)


def _requests(count: int, max_tokens: int, system: str | None) -> list[Any]:
    from harness.models.base import GenerationParams, GenerationRequest

    questions = _questions()
    requests = []
    for index in range(count):
        messages = [{"role": "user", "content": questions[index % len(questions)]}]
        if system:
            messages.insert(0, {"role": "system", "content": system})
        requests.append(GenerationRequest(f"q{index}", 0, messages, GenerationParams(max_tokens=max_tokens)))  # type: ignore[arg-type]
    return requests


async def _answer(adapter: Any, requests: list[Any]) -> list[Any]:
    responses: list[Any] = []
    size = adapter.capabilities.max_batch_size
    for start in range(0, len(requests), size):
        responses += await adapter.generate(requests[start : start + size])
    return responses


def measure_generation(
    spec: str, batch_size: int, prompts: int, max_tokens: int, system: str | None, threads: int | None
) -> dict[str, Any]:
    from harness.models.hf import build_adapters
    from harness.models.registry import AdapterSettings

    options = {"batch_size": batch_size, "device": "cpu", "threads": threads}
    (adapter,) = build_adapters([_resolved(spec, "m", options)], AdapterSettings())
    requests = _requests(prompts, max_tokens, system)

    async def go() -> tuple[float, list[Any]]:
        await adapter.generate(requests[:1])  # load and warm up
        started = time.perf_counter()
        responses = await _answer(adapter, requests)
        elapsed = time.perf_counter() - started
        await adapter.aclose()
        return elapsed, responses

    elapsed, responses = asyncio.run(go())
    errors = [r.error for r in responses if r.error is not None]
    if errors:
        raise SystemExit(f"generation failed: {errors[0]}")
    tokens = sum(r.usage.completion_tokens or 0 for r in responses)
    return {"tokens": tokens, "seconds": elapsed, "tokens_per_s": tokens / elapsed, "peak_rss_mb": _peak_rss_mb()}


def measure_loading(base: str, adapters: list[str], shared: bool) -> dict[str, Any]:
    """Load base + each adapter as models of one run (shared) or one run per model (separate)."""
    import peft  # noqa: F401  # imported before the clock starts: the figures are about loading weights
    import torch  # noqa: F401
    import transformers  # noqa: F401

    from harness.models.hf import build_adapters
    from harness.models.registry import AdapterSettings

    specs = [f"hf:{base}"] + [f"hf:{base}+{adapter}" for adapter in adapters]
    models = [_resolved(spec, f"m{i}", {"device": "cpu"}) for i, spec in enumerate(specs)]
    baseline = _rss_mb()
    started = time.perf_counter()
    if shared:
        built = build_adapters(models, AdapterSettings())
    else:
        built = [build_adapters([model], AdapterSettings())[0] for model in models]
    request = _requests(1, 1, None)

    async def load_all() -> None:
        for adapter in built:
            await adapter.generate(request)  # the first request loads

    asyncio.run(load_all())
    seconds = time.perf_counter() - started
    return {"models": len(specs), "seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "added_mb": _rss_mb() - baseline}


def _subprocess(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"measurement {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def build_random_model(folder: Path, adapters: int) -> tuple[Path, list[Path]]:
    """A ~50M-parameter Llama with random weights (the demo's tokenizer), and random LoRA adapters for it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    base = folder / "random-50m"
    tokenizer = AutoTokenizer.from_pretrained(DEMO / "base")
    tokenizer.save_pretrained(base)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        num_key_value_heads=RANDOM_SHAPE["num_attention_heads"],
        max_position_embeddings=1024,
        eos_token_id=None,  # random weights would stop at random points; never stopping measures full length
        pad_token_id=tokenizer.pad_token_id,
        **RANDOM_SHAPE,
    )
    model = LlamaForCausalLM(config)
    parameters = sum(p.numel() for p in model.parameters())
    model.save_pretrained(base)
    paths = []
    for index in range(adapters):
        torch.manual_seed(index + 1)
        lora = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], init_lora_weights=False)
        peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), lora)
        peft_model.save_pretrained(folder / f"lora-{index}")
        paths.append(folder / f"lora-{index}")
    print(f"random model: {parameters / 1e6:.1f}M parameters, {len(paths)} LoRA adapters (r=16, attention)")
    return base, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer prompts and tokens")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, help="CPU threads for generation (default: torch's, one per core)")
    parser.add_argument("--measure", choices=["generate", "load"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    parser.add_argument("--prompts", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-tokens", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--system", help=argparse.SUPPRESS)
    parser.add_argument("--adapters", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--shared", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.measure == "generate":
        print(json.dumps(measure_generation(args.spec, args.batch_size, args.prompts, args.max_tokens, args.system, args.threads)))
        return
    if args.measure == "load":
        print(json.dumps(measure_loading(args.spec, args.adapters, args.shared)))
        return

    import torch

    threads = args.threads or torch.get_num_threads()
    print(f"torch {torch.__version__}, generating on {threads} threads, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    system = "You are a customer service agent for TechCorp. Answer in numbered steps."
    with tempfile.TemporaryDirectory() as tmp:
        random_base, random_adapters = build_random_model(Path(tmp), adapters=2)
        cases = [
            ("demo + LoRA (0.5M)", f"hf:{DEMO / 'base'}+{DEMO / 'lora'}", 48 if not args.quick else 16, 64, system),
            ("random Llama (50M)", f"hf:{random_base}", 32 if not args.quick else 16, 32 if not args.quick else 16, None),
        ]
        print(f"\n{'model':<20} {'batch':>5} {'prompts':>7} {'tokens':>6} {'seconds':>8} {'tokens/s':>9} {'peak RSS':>9}")
        for label, spec, prompts, max_tokens, prompt_system in cases:
            rates = {}
            for batch in (1, args.batch_size):
                extra = ["--system", prompt_system] if prompt_system else []
                extra += ["--threads", str(args.threads)] if args.threads else []
                result = _subprocess(
                    "--measure", "generate", "--spec", spec, "--batch-size", str(batch),
                    "--prompts", str(prompts), "--max-tokens", str(max_tokens), *extra,
                )
                rates[batch] = result["tokens_per_s"]
                print(
                    f"{label:<20} {batch:>5} {prompts:>7} {result['tokens']:>6} {result['seconds']:>8.2f} "
                    f"{result['tokens_per_s']:>9.1f} {result['peak_rss_mb']:>7.0f}MB"
                )
            print(f"{label:<20} batched/one-at-a-time: {rates[args.batch_size] / rates[1]:.1f}x")

        print(f"\n{'loading base + 2 adapters (50M)':<36} {'models':>6} {'seconds':>8} {'peak RSS':>9} {'models RSS':>10}")
        adapters = [str(path) for path in random_adapters]
        figures = {}
        for shared in (True, False):
            flags = ["--shared"] if shared else []
            result = _subprocess("--measure", "load", "--spec", str(random_base), "--adapters", *adapters, *flags)
            figures[shared] = result
            label = "one shared base load" if shared else "one load per model"
            print(
                f"{label:<36} {result['models']:>6} {result['seconds']:>8.2f} {result['peak_rss_mb']:>7.0f}MB "
                f"{result['added_mb']:>8.0f}MB"
            )
        saved_s = figures[False]["seconds"] - figures[True]["seconds"]
        saved_mb = figures[False]["added_mb"] - figures[True]["added_mb"]
        print(f"{'shared load saves':<36} {'':>6} {saved_s:>8.2f} {'':>9} {saved_mb:>8.0f}MB")


if __name__ == "__main__":
    main()
