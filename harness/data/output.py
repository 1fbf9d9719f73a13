"""Writing outputs safely: never over the input, and atomically (a temp file moved into place)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (resolving links)."""
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


@contextmanager
def atomic_write(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """A text handle whose content replaces `path` only when the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    name = ""
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", newline=newline, dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            name = handle.name
            yield handle
        os.replace(name, path)
    except BaseException:
        if name:
            Path(name).unlink(missing_ok=True)
        raise
