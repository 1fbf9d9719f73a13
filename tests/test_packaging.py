"""The editable install `scripts/setup.sh` makes: built from pyproject.toml without setuptools' warning."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_editable_build_is_a_plain_path_entry_without_the_same_name_warning(tmp_path: Path) -> None:
    # A copy of the project's packaging with a root folder beside the package, like tests/ here.
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "README.md").write_text("harness\n", encoding="utf-8")
    for package in ("harness", "tests"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    code = "import setuptools.build_meta as b, sys; print(b.build_editable(sys.argv[1]))"
    built = subprocess.run([sys.executable, "-W", "default", "-c", code, str(tmp_path / "dist")], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    assert "take precedence during imports" not in built.stderr  # the warning pip shows at every install
    wheel = tmp_path / "dist" / built.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        pth = [name for name in archive.namelist() if name.endswith(".pth")]
        assert len(pth) == 1
        assert archive.read(pth[0]).decode().strip() == str(tmp_path.resolve())
