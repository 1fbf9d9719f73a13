"""Driving Debian's Chromium through Playwright for the HTML tests: one browser per test module.

A test module imports `browser` (the fixture) and `Page` from here; importing the fixture gives
the module its own browser, started once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1300, "height": 900})
        yield context
        context.close()


class Page:
    """A page opened offline: every request that is not file:// is aborted and recorded."""

    def __init__(self, context: Any, path: Path, ready: str = "#cases article.case") -> None:
        self.page = context.new_page()
        self.problems: list[str] = []
        self.blocked: list[str] = []
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri())
        self.page.locator(ready).first.wait_for()

    def _route(self, route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def cards(self) -> list[str]:
        return [str(x) for x in self.page.locator("#cases article.case").evaluate_all(
            "nodes => nodes.map(n => n.getAttribute('data-case'))")]

    def settle(self) -> None:
        self.page.wait_for_timeout(200)  # the search box waits 120 ms before filtering

    def close(self) -> None:
        self.page.close()
