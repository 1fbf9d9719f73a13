"""NLTK's Porter stemmer (the one rouge-score uses) without the cost of `import nltk`.

`import nltk` imports most of NLTK and, when installed, scikit-learn and SciPy: seconds, for
a stemmer that needs none of it. Unless nltk is already imported, bare package objects stand
in for `nltk` and `nltk.stem` while `nltk.stem.porter` loads from nltk's own files; they are
removed afterwards, so a later `import nltk` anywhere runs as usual. Should nltk's layout ever
make that fail, the ordinary import is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

_stemmer_class: Any = None


def _forget_nltk() -> None:
    for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
        del sys.modules[name]


def _light_import() -> Any:
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("nltk is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    try:
        for name, folder in (("nltk", root), ("nltk.stem", root / "stem")):
            package = types.ModuleType(name)
            package.__path__ = [str(folder)]
            package.__package__ = name
            sys.modules[name] = package
        return importlib.import_module("nltk.stem.porter").PorterStemmer
    finally:
        _forget_nltk()


def porter_stemmer() -> Any:
    """A new `nltk.stem.porter.PorterStemmer()` (NLTK_EXTENSIONS mode, as rouge-score builds it)."""
    global _stemmer_class
    if _stemmer_class is None:
        if "nltk" in sys.modules:
            from nltk.stem.porter import PorterStemmer

            _stemmer_class = PorterStemmer
        else:
            try:
                _stemmer_class = _light_import()
            except Exception:  # pragma: no cover - a future nltk layout
                from nltk.stem.porter import PorterStemmer

                _stemmer_class = PorterStemmer
    return _stemmer_class()
