"""Every mistake a user can make with an hf: model fails at build time with one clear line."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from harness.errors import UsageError
from tests.models.hf.conftest import TinyModels, build, copy_adapter, resolved


def _error(*models: object) -> str:
    with pytest.raises(UsageError) as caught:
        build(*models)  # type: ignore[arg-type]
    message = caught.value.message
    assert "\n" not in message
    return message


def test_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, tiny: TinyModels) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a))
    message = _error(resolved(f"hf:{tiny.base}", name="local"))
    assert message == (
        "model 'local': hf: models need peft, which is not installed: "
        "pip install 'harness[local]' (in a checkout: bash scripts/setup.sh local)"
    )


def test_missing_base_directory(tmp_path: Path) -> None:
    message = _error(resolved("hf:./no-such-model", name="m", base_dir=tmp_path))
    assert message == f"model 'm': base model directory './no-such-model' not found (looked at {tmp_path / 'no-such-model'})"


def test_uncached_hub_id_while_offline(tmp_path: Path) -> None:
    message = _error(resolved("hf:some-org/some-model", name="m", base_dir=tmp_path))
    assert message.startswith("model 'm': 'some-org/some-model' is neither a local directory")
    assert message.endswith("nor a downloaded hub model, and HF_HUB_OFFLINE is set")


def test_base_directory_without_config(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    message = _error(resolved("hf:./empty", name="m", base_dir=tmp_path))
    assert message == "model 'm': './empty' has no config.json: not a Hugging Face model directory"


def test_adapter_given_as_base(tiny: TinyModels) -> None:
    message = _error(resolved(f"hf:{tiny.lora_a}", name="m"))
    assert message == f"model 'm': '{tiny.lora_a}' is a LoRA adapter, not a base model: use hf:<base>+{tiny.lora_a}"


def test_missing_adapter_directory(tiny: TinyModels, tmp_path: Path) -> None:
    message = _error(resolved(f"hf:{tiny.base}+./nowhere", name="m", base_dir=tmp_path))
    assert message == f"model 'm': adapter directory './nowhere' not found (looked at {tmp_path / 'nowhere'})"


def test_adapter_directory_without_adapter_config(tiny: TinyModels, tmp_path: Path) -> None:
    folder = tmp_path / "not-an-adapter"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"")
    message = _error(resolved(f"hf:{tiny.base}+{folder}", name="m"))
    assert message == f"model 'm': '{folder}' is not a peft adapter directory: it has no adapter_config.json"


def test_adapter_without_weights(tiny: TinyModels, tmp_path: Path) -> None:
    folder = copy_adapter(tiny.lora_a, tmp_path / "no-weights")
    (folder / "adapter_model.safetensors").unlink()
    message = _error(resolved(f"hf:{tiny.base}+{folder}", name="m"))
    assert message == f"model 'm': '{folder}' has no adapter_model.safetensors or adapter_model.bin"


def test_non_lora_adapter(tiny: TinyModels, tmp_path: Path) -> None:
    folder = copy_adapter(tiny.lora_a, tmp_path / "ia3", peft_type="IA3")
    message = _error(resolved(f"hf:{tiny.base}+{folder}", name="m"))
    assert message == f"model 'm': '{folder}' is a IA3 adapter; only LoRA adapters are supported"


def test_adapter_for_a_differently_named_base(tiny: TinyModels) -> None:
    message = _error(resolved(f"hf:{tiny.base}+{tiny.lora_other}", name="m"))
    assert message == (
        f"model 'm': adapter '{tiny.lora_other}' was trained on '{tiny.other_base}', not on '{tiny.base}' "
        "(if they are the same model under another name, set options.check_base_name: false)"
    )


def test_adapter_for_a_base_of_other_shapes(tiny: TinyModels, tmp_path: Path) -> None:
    # Same recorded name as our base, so only the shapes can tell.
    folder = copy_adapter(tiny.lora_other, tmp_path / "renamed", base_model_name_or_path="base")
    message = _error(resolved(f"hf:{tiny.base}+{folder}", name="m"))
    assert message == (
        f"model 'm': adapter '{folder}' does not fit base '{tiny.base}': "
        "model.layers.0.self_attn.q_proj is 32x32 in the base but 48x48 in the adapter "
        "(the adapter was trained for another base model)"
    )


def test_shapes_are_checked_even_without_the_name_check(tiny: TinyModels) -> None:
    message = _error(resolved(f"hf:{tiny.base}+{tiny.lora_other}", name="m", options={"check_base_name": False}))
    assert "does not fit base" in message and "48x48 in the adapter" in message


def test_renamed_copy_of_the_base_is_accepted(tiny: TinyModels, tmp_path: Path) -> None:
    """Names compare by their last part, ignoring case and punctuation: a copied base is the same model."""
    copy = tmp_path / "BASE_copy"
    shutil.copytree(tiny.base, copy)
    adapter = copy_adapter(tiny.lora_a, tmp_path / "a", base_model_name_or_path="org/base-copy")
    (built,) = build(resolved(f"hf:{copy}+{adapter}", name="m"))
    assert built.fingerprint.startswith(f"hf:{copy}#")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"batch_size": 0}, "model 'm': options.batch_size: Input should be greater than 0"),
        ({"device": "tpu"}, "model 'm': options.device: Value error, use auto, cpu, mps, cuda or cuda:N"),
        ({"dtype": "int8"}, "model 'm': options.dtype: Input should be 'auto', 'float32', 'bfloat16' or 'float16'"),
        ({"max_new_token": 5}, "model 'm': options.max_new_token: Extra inputs are not permitted"),
        ({"prompt_format": "chat"}, "model 'm': prompt_format is chat but the tokenizer has no chat template (set options.chat_template)"),
        ({"plain_template": "{% for %}"}, "model 'm': options.plain_template: Expected an expression, got 'end of statement block'"),
    ],
)
def test_invalid_options(tiny: TinyModels, options: dict[str, object], expected: str) -> None:
    assert _error(resolved(f"hf:{tiny.base}", name="m", options=options)) == expected


def test_unavailable_device(tiny: TinyModels) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    message = _error(resolved(f"hf:{tiny.base}", name="m", options={"device": "cuda"}))
    assert message == f"model 'm': options.device: device cuda requested but CUDA is not available (torch {torch.__version__})"
