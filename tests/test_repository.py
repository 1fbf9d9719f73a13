"""The checkout itself: no file carries a merge left half done."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(rb"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def test_no_tracked_file_holds_merge_conflict_markers() -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    files = [name for name in listed.stdout.decode().split("\0") if name] if listed.returncode == 0 else []
    if not files:  # not a git checkout (an sdist): look at the text files we ship
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.suffix in {".py", ".md", ".yaml", ".yml", ".toml"}
                 and ".venv" not in p.parts]
    marked = [name for name in files if (ROOT / name).is_file() and MARKER.search((ROOT / name).read_bytes())]
    assert marked == []
