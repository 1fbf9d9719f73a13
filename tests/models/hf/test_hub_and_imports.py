"""Hub ids resolve to the local hub cache offline; torch and friends load only for hf: models."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.models.base import GenerationParams, GenerationRequest
from tests.models.hf.conftest import TinyModels, build, resolved

ROOT = Path(__file__).resolve().parents[3]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _fake_hub_cache(tmp_path: Path, tiny: TinyModels, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The layout huggingface_hub downloads into (refs/main names the snapshot folder of a commit), made the cache."""
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))  # read at call time; the variable only at import
    repo = cache / "models--acme--tiny-lm"
    shutil.copytree(tiny.base, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    return cache


def test_hub_id_runs_from_the_local_hub_cache(tiny: TinyModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_hub_cache(tmp_path, tiny, monkeypatch)
    (hub,) = build(resolved("hf:acme/tiny-lm", name="hub"))
    assert hub.fingerprint.startswith(f"hf:hub:acme/tiny-lm@{COMMIT}#")
    (local,) = build(resolved(f"hf:{tiny.base}", name="local"))
    request = GenerationRequest("c", 0, [{"role": "user", "content": "Where are my invoices?"}], GenerationParams(max_tokens=6))

    async def answer(adapter: object) -> str | None:
        (response,) = await adapter.generate([request])  # type: ignore[attr-defined]
        await adapter.aclose()  # type: ignore[attr-defined]
        assert response.error is None
        return response.output  # type: ignore[no-any-return]

    assert asyncio.run(answer(hub)) == asyncio.run(answer(local))


def test_adapter_names_its_hub_base(tiny: TinyModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An adapter trained on `acme/tiny-lm` (as peft records it) fits the cached hub model of that id."""
    from tests.models.hf.conftest import copy_adapter

    _fake_hub_cache(tmp_path, tiny, monkeypatch)
    adapter = copy_adapter(tiny.lora_a, tmp_path / "lora", base_model_name_or_path="acme/tiny-lm")
    (built,) = build(resolved(f"hf:acme/tiny-lm+{adapter}", name="m"))
    assert "+lora:" in built.fingerprint
    asyncio.run(built.aclose())


def test_runs_without_hf_models_never_import_torch(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from harness.api import RunOptions, run_suite
import harness.models.hf  # the hf: package itself imports nothing heavy either
outcome = run_suite(Path({str(ROOT / "suites" / "support-predictions.yaml")!r}),
                    RunOptions(output_dir=Path({str(tmp_path)!r}), progress=False))
assert outcome.status == "complete"
print(sorted(name for name in ("torch", "transformers", "peft", "safetensors") if name in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _online_hub(monkeypatch: pytest.MonkeyPatch, outcome: Exception | None) -> list[str]:
    """Hub access allowed, with the hub's answer to model_info scripted (nothing leaves the machine)."""
    from huggingface_hub import HfApi, constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    asked: list[str] = []

    def model_info(self: object, repo_id: str, **kwargs: object) -> object:
        asked.append(repo_id)
        if outcome is not None:
            raise outcome
        return object()

    monkeypatch.setattr(HfApi, "model_info", model_info)
    return asked


def _hub_error(kind: str) -> Exception:
    """An instance of huggingface_hub's error class `kind`, without the HTTP response its __init__ wants."""
    from huggingface_hub import errors

    cls = getattr(errors, kind)
    error: Exception = cls.__new__(cls)
    Exception.__init__(error, "404 Client Error")
    return error


@pytest.mark.parametrize(
    ("outcome", "ending"),
    [
        ("RepositoryNotFoundError", " nor a model on the Hugging Face hub (if it is private: log in, or set HF_TOKEN)"),
        ("GatedRepoError", "; the hub model is gated: accept its terms, then log in (hf auth login or HF_TOKEN)"),
        ("RevisionNotFoundError", ", and the hub model has no revision 'v9'"),
        (OSError("[Errno -2] Name or service not known"),
         ", and the Hugging Face hub could not be reached to download it: [Errno -2] Name or service not known"),
    ],
)
def test_a_hub_id_not_downloaded_is_confirmed_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outcome: str | Exception, ending: str
) -> None:
    from harness.errors import UsageError

    asked = _online_hub(monkeypatch, _hub_error(outcome) if isinstance(outcome, str) else outcome)
    with pytest.raises(UsageError) as caught:
        build(resolved("hf:acme/typo-lm", name="m", base_dir=tmp_path, options={"revision": "v9"}))
    assert caught.value.message == f"model 'm': 'acme/typo-lm' is not a local directory (looked at {tmp_path / 'acme/typo-lm'})" + ending
    assert asked == ["acme/typo-lm"]


def test_a_hub_model_the_hub_knows_is_left_to_the_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _online_hub(monkeypatch, None)
    (built,) = build(resolved("hf:acme/new-lm", name="m", base_dir=tmp_path))
    assert asked == ["acme/new-lm"]
    assert built.fingerprint.startswith("hf:hub:acme/new-lm@main;")
    asyncio.run(built.aclose())
