from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    """Six cases in two tags; `alpha` cases require the word alpha, one forbids 'echo'."""
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: demo\n"
        "models:\n"
        "  a: openai:model-a\n"
        "  b: {spec: openai:model-b, generation: {temperature: 0.7}}\n"
        "cases:\n"
        + "".join(
            f"  - {{id: alpha-{i}, input: 'alpha {i}', required_patterns: [alpha], tags: [alpha]}}\n" for i in range(3)
        )
        + "".join(f"  - {{id: beta-{i}, input: 'beta {i}', tags: [beta]}}\n" for i in range(2))
        + "  - {id: beta-echo, input: 'beta x', forbidden_patterns: [echo], tags: [beta]}\n",
        encoding="utf-8",
    )
    return path
