"""`harness init`: a working starter evaluation, copied from the files shipped in this package.

    from harness.starter import write_starter
    written = write_starter(Path("my-eval"))

The starter runs offline as written (its two models are saved answers) and its stand-in script
lets the LLM-judge flow run offline too; `harness validate` accepts it (a test keeps it so).
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from harness.errors import UsageError

FILES = "files"


def _walk(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith((".", "__")):
            continue
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.extend(_walk(entry, name + "/"))
        else:
            found.append((name, entry))
    return found


def starter_files() -> list[tuple[str, Traversable]]:
    """(relative path, packaged file) of every starter file."""
    return _walk(resources.files("harness.starter").joinpath(FILES))


def write_starter(directory: Path, force: bool = False) -> list[Path]:
    """Write the starter into `directory` (created if needed); refuses to overwrite a file unless `force`."""
    files = starter_files()
    if not force:
        existing = [directory / name for name, _ in files if (directory / name).exists()]
        if existing:
            shown = ", ".join(str(p) for p in existing[:3]) + (", ..." if len(existing) > 3 else "")
            raise UsageError(f"{shown} already exist{'s' if len(existing) == 1 else ''}: "
                             "pick an empty folder, or pass --force to overwrite")
    written = []
    for name, source in files:
        target = directory / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
        written.append(target)
    return written
