"""harness: evaluate fine-tuned language models against their base, and gate deploys on it.

The public Python API is re-exported here lazily so that `harness --help` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from harness.api import load_results, load_run, rejudge_run, run_suite
    from harness.suite.loader import load_suite

__all__ = ["__version__", "load_results", "load_run", "load_suite", "rejudge_run", "run_suite"]

_LAZY = {
    "load_suite": "harness.suite.loader",
    "run_suite": "harness.api",
    "load_run": "harness.api",
    "load_results": "harness.api",
    "rejudge_run": "harness.api",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
