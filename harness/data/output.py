"""Writing outputs safely: never over the input, and atomically (a temp file moved into place)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from harness.errors import UsageError, file_problem


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (resolving links)."""
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


@contextmanager
def atomic_write(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """A text handle whose content replaces `path` only when the block completes.

    A file-system failure (read-only folder, disk full) removes the temporary file and is a
    UsageError naming `path` and the OS reason."""
    name = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", newline=newline, dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            name = handle.name
            yield handle
        os.replace(name, path)
    except BaseException as exc:
        if name:
            Path(name).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise UsageError(file_problem(exc, path, "write")) from None
        raise
