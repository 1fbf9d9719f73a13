"""Data flows one way: the packages that answer, score and judge never import the ones that compose a run.

harness/run composes models, metrics and judging into a run, and report/, cli/ and the rest sit
above it. An import the other way (judging reading the run store, say) ties a lower concept to
how a run happens to be built, so this test reads every module's imports, lazy ones included.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "harness"
LOWER = ("checks", "data", "judging", "metrics", "models", "stats")
UPPER = ("api", "cli", "monitor", "pytest_plugin", "report", "run", "testing")


def harness_imports(path: Path) -> set[str]:
    """Top-level harness packages a module imports, anywhere in it (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names if node.module == "harness"]
        found.update(name.split(".")[1] for name in names if name.startswith("harness."))
    return found


def test_lower_packages_never_import_the_run_or_what_sits_above_it() -> None:
    back_edges = [
        f"{path.relative_to(PACKAGE.parent)} imports harness.{target}"
        for lower in LOWER
        for path in sorted((PACKAGE / lower).rglob("*.py"))
        for target in sorted(harness_imports(path) & set(UPPER))
    ]
    assert back_edges == []


def test_the_scan_sees_lazy_and_from_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import harness.run.store\n"
                      "def f():\n    from harness.report.review import export_review\n"
                      "from harness import api\n", encoding="utf-8")
    assert harness_imports(module) == {"run", "report", "api"}
