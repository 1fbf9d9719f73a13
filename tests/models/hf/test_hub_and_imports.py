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
