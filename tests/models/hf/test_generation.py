"""Generation through the hf: adapter: deterministic, batch-independent, one base load for many models."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.models.base import (
    ChatMessage,
    GenerationParams,
    GenerationRequest,
    GenerationResponse,
    ModelAdapter,
)
from tests.models.hf.conftest import CONTEXT, QUESTIONS, TinyModels, build, resolved


def _requests(questions: Sequence[str] = QUESTIONS, **params: object) -> list[GenerationRequest]:
    params.setdefault("max_tokens", 8)
    return [
        GenerationRequest(f"case-{i}", 0, [ChatMessage(role="user", content=q)], GenerationParams(**params))  # type: ignore[arg-type]
        for i, q in enumerate(questions)
    ]


def _generate(adapter: ModelAdapter, requests: list[GenerationRequest]) -> list[GenerationResponse]:
    async def go() -> list[GenerationResponse]:
        try:
            out: list[GenerationResponse] = []
            size = adapter.capabilities.max_batch_size
            for start in range(0, len(requests), size):  # as the runner does
                out += await adapter.generate(requests[start : start + size])
            return out
        finally:
            await adapter.aclose()

    return asyncio.run(go())


def _outputs(responses: list[GenerationResponse]) -> list[str | None]:
    assert all(r.error is None for r in responses), [r.error for r in responses]
    return [r.output for r in responses]


def test_greedy_generation_is_deterministic_and_varies_with_the_prompt(tiny: TinyModels) -> None:
    first = _outputs(_generate(build(resolved(f"hf:{tiny.base}"))[0], _requests()))
    second = _outputs(_generate(build(resolved(f"hf:{tiny.base}"))[0], _requests()))
    assert first == second
    assert len(set(first)) > 3  # the outputs depend on the prompt: the test below compares something


@pytest.mark.parametrize("adapters", ["", "+{a}", "+{a}+{b}"])
def test_batched_equals_one_at_a_time(tiny: TinyModels, adapters: str) -> None:
    spec = f"hf:{tiny.base}" + adapters.format(a=tiny.lora_a, b=tiny.lora_b)
    (batched,) = build(resolved(spec, options={"batch_size": 4}))
    (single,) = build(resolved(spec, options={"batch_size": 1}))
    assert batched.capabilities.max_batch_size == 16 and single.capabilities.max_batch_size == 4
    assert _outputs(_generate(batched, _requests())) == _outputs(_generate(single, _requests()))


def test_answers_come_back_in_request_order(tiny: TinyModels) -> None:
    """Prompts are sorted by length inside a batch; each answer must still reach its own request."""
    (adapter,) = build(resolved(f"hf:{tiny.base}", options={"batch_size": 3}))
    together = _outputs(_generate(adapter, _requests()))
    for index in (0, 2, 6):
        (alone,) = build(resolved(f"hf:{tiny.base}"))
        assert _outputs(_generate(alone, _requests([QUESTIONS[index]]))) == [together[index]]


def test_one_base_load_serves_base_and_adapters_with_separate_load_outputs(tiny: TinyModels, load_counter: list[str]) -> None:
    specs = {
        "base": f"hf:{tiny.base}",
        "a": f"hf:{tiny.base}+{tiny.lora_a}",
        "b": f"hf:{tiny.base}+{tiny.lora_b}",
        "a+b": f"hf:{tiny.base}+{tiny.lora_a}+{tiny.lora_b}",
        "a-again": f"hf:{tiny.base}+{tiny.lora_a}",
    }
    shared = build(*(resolved(spec, name=name) for name, spec in specs.items()))
    shared_outputs = {name: _outputs(_generate(adapter, _requests())) for name, adapter in zip(specs, shared, strict=True)}
    assert load_counter == [str(tiny.base)]

    separate_outputs = {}
    for name, spec in specs.items():
        (alone,) = build(resolved(spec, name=name))
        separate_outputs[name] = _outputs(_generate(alone, _requests()))
    assert len(load_counter) == 1 + len(specs)
    assert shared_outputs == separate_outputs
    # The adapters change the answers, so the comparison above is not trivially true.
    assert len({tuple(v) for v in shared_outputs.values()}) == 4
    assert shared_outputs["a"] == shared_outputs["a-again"]


def test_interleaved_batches_of_models_sharing_a_base(tiny: TinyModels) -> None:
    """The runner runs models side by side: switching adapters per batch must not leak between models."""
    base, tuned = build(resolved(f"hf:{tiny.base}", name="base"), resolved(f"hf:{tiny.base}+{tiny.lora_a}", name="tuned"))
    (tuned_alone,) = build(resolved(f"hf:{tiny.base}+{tiny.lora_a}", name="tuned"))
    (base_alone,) = build(resolved(f"hf:{tiny.base}", name="base"))
    requests = _requests()

    async def side_by_side() -> tuple[list[GenerationResponse], list[GenerationResponse]]:
        async def run(adapter: ModelAdapter) -> list[GenerationResponse]:
            out: list[GenerationResponse] = []
            for request in requests:  # one request per batch: as many switches as possible
                out += await adapter.generate([request])
            return out

        results = await asyncio.gather(run(base), run(tuned))
        await base.aclose()
        await tuned.aclose()
        return results[0], results[1]

    base_out, tuned_out = asyncio.run(side_by_side())
    assert _outputs(base_out) == _outputs(_generate(base_alone, requests))
    assert _outputs(tuned_out) == _outputs(_generate(tuned_alone, requests))


def test_usage_finish_reason_and_latency(tiny: TinyModels) -> None:
    from transformers import AutoTokenizer

    (adapter,) = build(resolved(f"hf:{tiny.base}"))
    responses = _generate(adapter, _requests(max_tokens=5))
    tokenizer = AutoTokenizer.from_pretrained(tiny.base)
    for question, response in zip(QUESTIONS, responses, strict=True):
        prompt = f"User: {question}\nAssistant:"  # the default plain format
        assert response.usage.prompt_tokens == len(tokenizer(prompt)["input_ids"])
        assert response.usage.completion_tokens is not None and response.usage.completion_tokens <= 5
        if response.finish_reason == "length":
            assert response.usage.completion_tokens == 5
        assert response.latency_s is not None and response.latency_s > 0


def test_stop_sequences_cut_the_output(tiny: TinyModels) -> None:
    (free,) = build(resolved(f"hf:{tiny.base}"))
    outputs = _outputs(_generate(free, _requests(max_tokens=12)))
    index, text = next((i, t) for i, t in enumerate(outputs) if t and len(t.strip()) > 4)
    stop = text.strip()[2:4]
    (stopped,) = build(resolved(f"hf:{tiny.base}"))
    (response,) = _generate(stopped, _requests([QUESTIONS[index]], max_tokens=12, stop=[stop]))
    assert response.output == text[: text.index(stop)].strip()
    assert response.finish_reason == "stop"


def test_sampling_is_seeded(tiny: TinyModels) -> None:
    def sample(seed: int) -> list[str | None]:
        (adapter,) = build(resolved(f"hf:{tiny.base}"))
        return _outputs(_generate(adapter, _requests(temperature=1.5, seed=seed, max_tokens=10)))

    greedy = _outputs(_generate(build(resolved(f"hf:{tiny.base}"))[0], _requests(max_tokens=10)))
    assert sample(7) == sample(7)
    assert sample(7) != sample(8)
    assert sample(7) != greedy


def test_prompt_longer_than_the_context_is_an_error_for_that_case_only(tiny: TinyModels) -> None:
    long_question = " ".join(["fox"] * CONTEXT)  # at least a token per word
    (adapter,) = build(resolved(f"hf:{tiny.base}"))
    short, long = _generate(adapter, _requests(["cat", long_question]))
    assert short.error is None and short.output is not None
    assert long.error is not None and long.error.kind == "context_length"
    assert long.error.message.startswith("the prompt has ") and long.error.message.endswith(f"the model's context is {CONTEXT}")


def test_out_of_memory_becomes_an_error_with_a_hint(tiny: TinyModels, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    (adapter,) = build(resolved(f"hf:{tiny.base}", options={"batch_size": 2}))
    shared = adapter.shared  # type: ignore[attr-defined]
    with shared.lock:
        shared.ensure_loaded()

    def exhausted(*args: object, **kwargs: object) -> object:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(shared.model, "generate", exhausted)
    responses = _generate(adapter, _requests(QUESTIONS[:3]))
    assert [r.error.kind if r.error else None for r in responses] == ["generation"] * 3
    assert responses[0].error is not None
    assert responses[0].error.message == (
        "out of memory generating 2 prompts on cpu; lower options.batch_size (now 2): CUDA out of memory. Tried to allocate 2.00 GiB"
    )


def test_chat_template_option_renders_the_prompt(tiny: TinyModels) -> None:
    template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}<assistant>"
    chat, plain, default = build(
        resolved(f"hf:{tiny.base}", name="chat", options={"chat_template": template}),
        resolved(f"hf:{tiny.base}", name="plain", options={"plain_template": template}),
        resolved(f"hf:{tiny.base}", name="default"),
    )
    chat_out, plain_out, default_out = (_outputs(_generate(a, _requests())) for a in (chat, plain, default))
    # The same text reaches the model either way (no special tokens in this tokenizer), so the answers
    # agree, and differ from those to the default `User: ...\nAssistant:` prompt.
    assert chat_out == plain_out
    assert default_out != plain_out


def test_fingerprint_tracks_base_adapter_and_prompt_options(tiny: TinyModels, tmp_path: Path) -> None:
    folder = tmp_path
    base, tuned, other_prompt = build(
        resolved(f"hf:{tiny.base}", name="1"),
        resolved(f"hf:{tiny.base}+{tiny.lora_a}", name="2"),
        resolved(f"hf:{tiny.base}+{tiny.lora_a}", name="3", options={"max_new_tokens": 9}),
    )
    copy = shutil.copytree(tiny.lora_a, folder / "copy")
    (same,) = build(resolved(f"hf:{tiny.base}+{copy}"))
    assert same.fingerprint == tuned.fingerprint  # same content, another folder: cache entries are shared
    (copy / "adapter_model.safetensors").write_bytes((tiny.lora_b / "adapter_model.safetensors").read_bytes())
    (retrained,) = build(resolved(f"hf:{tiny.base}+{copy}", options={"check_base_name": False}))
    fingerprints = {base.fingerprint, tuned.fingerprint, other_prompt.fingerprint, retrained.fingerprint}
    assert len(fingerprints) == 4
    assert tuned.fingerprint.startswith(f"hf:{tiny.base}#") and "+lora:" in tuned.fingerprint
    assert tuned.fingerprint.endswith(";float32;cpu;prompt:" + tuned.fingerprint.rsplit("prompt:", 1)[1])
    for adapter in (base, tuned, other_prompt, same, retrained):
        asyncio.run(adapter.aclose())


def test_threads_option_applies_where_the_model_generates(tiny: TinyModels, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    (adapter,) = build(resolved(f"hf:{tiny.base}", options={"threads": 1}))
    shared = adapter.shared  # type: ignore[attr-defined]
    with shared.lock:
        shared.ensure_loaded()
    original = shared.model.generate
    seen: list[int] = []

    def recording(*args: object, **kwargs: object) -> object:
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(shared.model, "generate", recording)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        _outputs(_generate(adapter, _requests(QUESTIONS[:2])))
    finally:
        torch.set_num_threads(before)
    assert seen == [1]


def test_a_conversation_the_template_refuses_fails_alone(tiny: TinyModels) -> None:
    template = (
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    )
    (adapter,) = build(resolved(f"hf:{tiny.base}", options={"chat_template": template}))
    with_system = GenerationRequest(
        "sys", 0, [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="hi")], GenerationParams(max_tokens=4)
    )
    refused, answered = _generate(adapter, [with_system, *_requests(["hello there"])])
    assert refused.error is not None and refused.error.kind == "bad_request"
    assert refused.error.message == "the prompt template failed: System role not supported"
    assert answered.error is None and answered.output is not None


def test_a_tokenizer_without_padding_token_pads_with_eos(tiny: TinyModels, tmp_path: Path) -> None:
    import json

    folder = shutil.copytree(tiny.base, tmp_path / "no-pad")
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    del config["pad_token"]
    config_path.write_text(json.dumps(config))
    (batched,) = build(resolved(f"hf:{folder}", options={"batch_size": 4}))
    (single,) = build(resolved(f"hf:{folder}", options={"batch_size": 1}))
    outputs = _outputs(_generate(batched, _requests()))
    assert outputs == _outputs(_generate(single, _requests()))
    assert len(set(outputs)) > 3
