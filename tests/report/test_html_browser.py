"""report.html in a real headless Chromium (Debian's, driven by Playwright): no console errors,
filters, paging at 5,000 cases, the XSS payload inert, no network. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.api import RunOptions, run_suite
from harness.report.finalize import finalize_run
from harness.testing import FakeOpenAIServer
from harness.testing.synthetic_run import write_synthetic_run
from tests.report.browser import ARTIFACTS, Page, browser
from tests.report.conftest import XSS, World, suite_text

__all__ = ["browser"]  # the module's one Chromium (a fixture imported from tests.report.browser)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def judged_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("judged")
    with FakeOpenAIServer(responder=World()) as server:
        suite = directory / "suite.yaml"
        suite.write_text(suite_text(server.base_url, 30, ["win_rate >= 0.8", "pass_rate[tuned] >= 0.9"]))
        outcome = run_suite(suite, RunOptions(output_dir=directory / "reports", progress=False, use_cache=False),
                            Console(file=io.StringIO()))
    return outcome.run_dir / "report.html"


@pytest.fixture(scope="module")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = write_synthetic_run(tmp_path_factory.mktemp("large") / "synthetic-run", 5000)
    finalize_run(run_dir)
    return run_dir / "report.html"


@pytest.fixture
def judged(judged_report: Path, browser: Any) -> Iterator[Page]:  # the run needs asyncio: before the browser
    page = Page(browser, judged_report)
    yield page
    page.page.close()


def test_renders_offline_without_console_errors(judged: Page) -> None:
    page = judged.page
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith("✗ Don't ship tuned\n1 of 2 gates failed: win_rate >= 0.8")
    assert "1 regression" in verdict and "15 improvements" in verdict and "judge win rate 73.3%" in verdict
    assert page.locator("#gates tbody tr").count() == 2
    assert page.locator("#model-cards .card").count() == 3  # two models and the win-rate card
    assert len(judged.cards()) == 25 and page.locator("#page").inner_text() == "page 1 of 2"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert judged.problems == [] and judged.blocked == []


def test_failures_come_first_and_filters_change_the_rows(judged: Page) -> None:
    page = judged.page
    cards = judged.cards()
    assert cards[0] == "case-0006"  # the one regression leads
    page.select_option("#status", "regression")
    assert judged.cards() == ["case-0006"] and page.locator("#count").inner_text() == "1 of 30 cases"
    page.select_option("#status", "")
    page.select_option("#tag", "billing")
    assert len(judged.cards()) == 10
    page.select_option("#tag", "")
    page.fill("#search", "question 13 ")
    judged.settle()
    assert judged.cards() == ["case-0013"]
    page.fill("#search", "no such text anywhere")
    judged.settle()
    assert judged.cards() == [] and "No case matches" in page.locator("#cases").inner_text()
    page.fill("#search", "")
    judged.settle()
    page.click("#next")
    assert len(judged.cards()) == 5 and page.locator("#page").inner_text() == "page 2 of 2"
    assert judged.problems == []


def test_the_xss_payload_stays_text(judged: Page) -> None:
    page = judged.page
    page.fill("#search", "window.__xss")
    judged.settle()
    assert judged.cards() == ["case-0001"]
    card = page.locator("article.case[data-case='case-0001']")
    assert XSS in card.inner_text()  # shown as text
    assert card.locator("img").count() == 0 and card.locator("script").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert "<b>bold</b>" in card.inner_text() and card.locator("b").count() == 0  # the judge's reason too
    card.locator("button", has_text="word diff").click()
    diff = card.locator(".diff")
    assert diff.locator("ins").count() > 0 and diff.locator("del").count() > 0
    assert "window.__xss" in diff.inner_text() and page.evaluate("typeof window.__xss") == "undefined"
    card.locator(".verdicts details").first.evaluate("node => node.open = true")
    assert "names the steps. [[A]]" in card.locator(".verdicts").inner_text()
    card.screenshot(path=str(ARTIFACTS / "report-xss-case.png"))
    assert judged.problems == [] and judged.blocked == []


def test_five_thousand_cases_page_and_filter(large_report: Path, browser: Any) -> None:
    view = Page(browser, large_report)
    page = view.page
    assert len(view.cards()) == 25 and page.locator("#page").inner_text() == "page 1 of 200"
    assert page.locator("#count").inner_text() == "5000 of 5000 cases"
    page.click("#next")
    assert page.locator("#page").inner_text() == "page 2 of 200"
    page.fill("#search", "question 4321:")
    view.settle()
    assert view.cards() == ["case-04321"]
    page.fill("#search", "")
    view.settle()
    page.select_option("#status", "pass")
    statuses = page.locator("#cases article.case .head .chip").first.inner_text()
    assert statuses == "both pass" and page.locator("#page").inner_text() == "page 1 of " + str(
        -(-int(page.locator("#count").inner_text().split()[0]) // 25))
    assert view.problems == [] and view.blocked == []
    page.close()


def test_charts_render_with_their_marks(judged: Page) -> None:
    page = judged.page
    charts = page.locator("#charts svg.chart")
    assert charts.count() >= 7
    for box in charts.evaluate_all("nodes => nodes.map(n => n.getBoundingClientRect().toJSON())"):
        assert box["width"] > 150 and box["height"] > 40, box  # laid out, not collapsed
    assert page.locator("#fig-pass_rate circle").count() == 2  # one dot per model
    assert page.locator("#fig-rubric circle").count() == 2
    assert page.locator("#pass-by-tag rect").count() == 3 * 2  # tags x models
    assert page.locator("#win-tuned circle").count() == 1 + 3  # all cases, then each tag
    assert page.locator("#dist-rubric rect").count() >= 2 and page.locator("#dist-latency rect").count() >= 2
    # tooltips carry the figures: tuned passes 29 of 30
    assert "tuned: 96.7%" in (page.locator("#fig-pass_rate circle title").first.text_content() or "")
    page.locator("#charts").screenshot(path=str(ARTIFACTS / "report-charts.png"))
    assert judged.problems == [] and judged.blocked == []


def test_verdict_regressions_and_improvements_lead_the_page(judged: Page) -> None:
    page = judged.page
    order = page.evaluate("() => [...document.querySelectorAll('main > section')].map(s => s.id)")
    assert order[:4] == ["verdict", "regressions", "improvements", "gates-section"]
    first = page.locator("article.case").first
    assert first.get_attribute("data-case") == "case-0006"  # the page's first case card is the regression
    assert first.locator(".diff ins").count() > 0  # its word diff is open
    heads = first.locator(".answer .mhead").all_inner_texts()
    assert heads[0].startswith("base\nbaseline") and heads[1].startswith("tuned\ncandidate")
    assert page.locator("#improvement-list details").count() == 15
    fold = page.locator("#improvement-list details").first
    fold.locator("summary").click()
    assert fold.locator("article.case .answer").count() == 2
    assert judged.problems == []
