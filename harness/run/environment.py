"""What the run ran on, for run.json: versions read from package metadata, nothing imported."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

_PACKAGES = (
    "harness",
    "openai",
    "pydantic",
    "numpy",
    "sacrebleu",
    "rouge-score",
    "scikit-learn",
    "rapidfuzz",
    "nltk",
    "evaluate",
    "torch",
    "transformers",
    "peft",
)


def environment() -> dict[str, object]:
    versions: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
    }
