"""`harness view [RUN]`: open a run's report.html in a browser, or print its file URL where none can open."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

REPORT_FILE = "report.html"


def latest_run(directory: Path) -> Path | None:
    """The run directory under `directory` that started last (run.json's started_at, then its name)."""
    import orjson

    runs: list[tuple[str, str, Path]] = []
    if directory.is_dir():
        for child in directory.iterdir():
            run_file = child / "run.json"
            if not run_file.is_file():
                continue
            try:
                started = str(orjson.loads(run_file.read_bytes()).get("started_at") or "")
            except (orjson.JSONDecodeError, OSError, AttributeError):
                started = ""
            runs.append((started, child.name, child))
    return max(runs)[2] if runs else None


def find_page(target: Path | None, directory: Path) -> Path:
    """The HTML page to show: RUN/report.html, an .html file given as such, or the latest run's report."""
    from harness.errors import UsageError

    if target is None:
        run = latest_run(directory)
        if run is None:
            raise UsageError(f"no run directory under '{directory}': give RUN, or --dir where the runs are")
        target = run
    if target.is_file() and target.suffix in (".html", ".htm"):
        return target.resolve()
    if not target.exists():
        raise UsageError(f"'{target}' does not exist: give a run directory or an .html report")
    if not target.is_dir():
        raise UsageError(f"'{target}' is neither a run directory nor an .html report")
    page = target / REPORT_FILE
    if page.is_file():
        return page.resolve()
    if (target / "run.json").is_file():
        raise UsageError(f"'{target}' has no {REPORT_FILE} yet: write it with `harness report {target}`")
    raise UsageError(f"'{target}' is not a run directory (no run.json)")


def can_open_browser() -> bool:
    """Whether a graphical browser can be started from here. On Linux that needs a display; a
    terminal browser (lynx, w3m) is never started, since it would take over the terminal or hang
    a CI job. $BROWSER, when set, is the user's explicit choice."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@click.command()
@click.argument("run", required=False, type=click.Path(path_type=Path))
@click.option("-d", "--dir", "directory", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Where to look for the latest run when RUN is not given.")
@click.option("--print", "print_only", is_flag=True, help="Only print the report's file URL; open nothing.")
def view(run: Path | None, directory: Path, print_only: bool) -> int:
    """Open RUN's report.html in a browser (RUN: a run directory or an .html file; default the
    latest run under --dir). The page's file URL is printed either way, so it can be opened by hand
    where no browser can start (no display, over SSH, in CI)."""
    page = find_page(run, directory)
    url = page.as_uri()
    click.echo(url)
    if print_only:
        return 0
    if not can_open_browser():
        click.echo("no browser can open here (no display): open the URL above on a machine with one", err=True)
        return 0
    import webbrowser

    if not webbrowser.open(url):
        click.echo("no browser found: open the URL above by hand", err=True)
    return 0
