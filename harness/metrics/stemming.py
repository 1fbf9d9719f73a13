"""NLTK's Porter stemmer and rouge-score's modules without the cost of `import nltk`.

`import nltk` imports most of NLTK and, when installed, scikit-learn and SciPy: seconds, for
a stemmer that needs none of it. rouge-score's `rouge_scorer` module runs `import nltk` at its
top for `nltk.sent_tokenize` (used only by its `split_summaries` option, which we never use)
and, through `rouge_score.tokenizers`, `from nltk.stem import porter`.

Unless nltk is already imported, bare package objects stand in for `nltk` and `nltk.stem`
while those modules load from their own files (nltk's `nltk/stem/porter.py`, rouge-score's
modules); the stand-ins are removed afterwards, so a later `import nltk` anywhere runs as
usual. Should a library's layout ever make that fail, the ordinary import is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

_stemmer_class: Any = None
_rouge: RougeModules | None = None


class RougeModules(NamedTuple):
    rouge_scorer: types.ModuleType
    scoring: types.ModuleType
    tokenize: types.ModuleType


def _forget(package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(f"{package}.")]:
        del sys.modules[name]


@contextmanager
def _nltk_stand_ins() -> Iterator[None]:
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
        yield
    finally:
        _forget("nltk")


def porter_stemmer() -> Any:
    """A new `nltk.stem.porter.PorterStemmer()` (NLTK_EXTENSIONS mode, as rouge-score builds it)."""
    global _stemmer_class
    if _stemmer_class is None:
        if "nltk" not in sys.modules:
            try:
                with _nltk_stand_ins():
                    _stemmer_class = importlib.import_module("nltk.stem.porter").PorterStemmer
            except Exception:  # pragma: no cover - a future nltk layout
                _stemmer_class = None
        if _stemmer_class is None:
            from nltk.stem.porter import PorterStemmer

            _stemmer_class = PorterStemmer
    return _stemmer_class()


def _ordinary_rouge_modules() -> RougeModules:
    from rouge_score import rouge_scorer, scoring, tokenize

    return RougeModules(rouge_scorer, scoring, tokenize)


def _light_rouge_modules() -> RougeModules:
    try:
        with _nltk_stand_ins():
            modules = _ordinary_rouge_modules()
    finally:
        # This copy of `rouge_scorer` (and of `tokenizers`, which holds the light stemmer
        # module) keeps the stand-in as its `nltk`: take both out of the import system so that
        # a later `from rouge_score import rouge_scorer` imports them afresh with the real nltk.
        package = sys.modules.get("rouge_score")
        for name in ("rouge_scorer", "tokenizers"):
            sys.modules.pop(f"rouge_score.{name}", None)
            if package is not None and name in vars(package):
                delattr(package, name)
    return modules


def rouge_score_modules() -> RougeModules:
    """rouge-score's `rouge_scorer`, `scoring` and `tokenize` modules, loaded once per process."""
    global _rouge
    if _rouge is None:
        if "nltk" in sys.modules or "rouge_score.rouge_scorer" in sys.modules:
            _rouge = _ordinary_rouge_modules()
        else:
            try:
                _rouge = _light_rouge_modules()
            except Exception:  # pragma: no cover - a future nltk or rouge-score layout
                _rouge = _ordinary_rouge_modules()
    return _rouge
