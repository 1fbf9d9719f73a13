"""Report rendering at scale: a 5,000-case, two-model judged run directory rendered by `finalize_run`.

Prints the time to write report.html/summary.md/junit.xml and the size of report.html, then the
time headless Chromium takes to load it and show the first page of cases (when /usr/bin/chromium exists).

    .venv/bin/python bench/report_render.py [--cases 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.report.finalize import finalize_run
from harness.testing.synthetic_run import write_synthetic_run

BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browser_load(report: Path, profile: Path) -> tuple[float, float, int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path="/usr/bin/chromium", headless=True, args=BROWSER_ARGS)
        page = context.new_page()
        started = time.perf_counter()
        page.goto(report.as_uri())
        page.wait_for_selector("#cases article.case")
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        page.fill("#search", "Question 4999")
        cards = page.locator("#cases article.case")
        while cards.count() >= 25:  # the page's CSP forbids wait_for_function's eval: poll instead
            time.sleep(0.01)
        filtered = time.perf_counter() - started
        shown = cards.count()
        context.close()
    return loaded, filtered, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = write_synthetic_run(Path(tmp) / "synthetic-run", args.cases)
        started = time.perf_counter()
        finalize_run(run_dir)
        elapsed = time.perf_counter() - started
        size = (run_dir / "report.html").stat().st_size
        print(f"cases: {args.cases} x 2 models; reports written in {elapsed:.2f} s; report.html {size / 1e6:.1f} MB")
        if Path("/usr/bin/chromium").exists():
            loaded, filtered, shown = browser_load(run_dir / "report.html", Path(tmp) / "profile")
            print(f"chromium: first page of cases shown {loaded:.2f} s after navigation; "
                  f"free-text filter over all cases {filtered:.2f} s ({shown} shown)")


if __name__ == "__main__":
    main()
