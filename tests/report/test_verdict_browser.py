"""In Chromium: the quickstart report leads with its verdict and its one regression; the word
diff keeps the spaces between what changed; the history page draws its trends. No console errors."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from harness.api import RunOptions, RunOutcome, run_suite
from tests.report.browser import ARTIFACTS, Page, browser
from tests.report.helpers import cli

__all__ = ["browser"]  # the module's one Chromium

pytestmark = pytest.mark.slow

BASE_ANSWER = "No problem! Use the reset link on the login page."
TUNED_ANSWER = "1. Go to the login page. 2. Click Forgot Password."


def write_predictions(path: Path, answers: dict[str, str]) -> None:
    path.write_text("".join(json.dumps({"id": k, "output": v}) + "\n" for k, v in answers.items()), encoding="utf-8")


def predictions_run(directory: Path, tuned: dict[str, str], base: dict[str, str]) -> RunOutcome:
    """A run of two saved-answer models (no endpoint, no judge): base is the baseline."""
    directory.mkdir(parents=True, exist_ok=True)
    write_predictions(directory / "tuned.jsonl", tuned)
    write_predictions(directory / "base.jsonl", base)
    suite = directory / "suite.yaml"
    suite.write_text(
        "name: saved\nmodels:\n  tuned: predictions:tuned.jsonl\n  base: predictions:base.jsonl\nbaseline: base\n"
        "metrics: [token_f1]\ngates: ['regressions[tuned] <= 0']\ncases:\n"
        "  - {id: reset, input: How do I reset my password?, reference: Click Forgot Password., "
        "required_patterns: [Forgot Password], tags: [account]}\n"
        "  - {id: hello, input: Hi!, reference: Hello!, required_patterns: [hello], tags: [smalltalk]}\n",
        encoding="utf-8")
    options = RunOptions(output_dir=directory.parent / "reports", progress=False)
    # In a thread of its own: a run uses asyncio.run, which cannot start inside the event loop
    # Playwright's sync API keeps in this thread once Chromium is up.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run_suite, suite, options, Console(file=io.StringIO())).result()


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    return predictions_run(tmp_path_factory.mktemp("saved") / "suite",
                           {"reset": TUNED_ANSWER, "hello": "1. Open Help."},
                           {"reset": BASE_ANSWER, "hello": "Hello! How can I help?"})


@pytest.fixture
def quickstart_page(quickstart_run: RunOutcome, browser: Any) -> Iterator[Page]:
    page = Page(browser, quickstart_run.run_dir / "report.html")
    yield page
    page.close()


def test_quickstart_report_leads_with_the_verdict_and_the_greeting(quickstart_page: Page) -> None:
    page = quickstart_page.page
    verdict = page.locator("#verdict").inner_text()
    assert verdict.startswith("✓ Ship tuned\nall 2 gates passed")
    assert "1 regression" in verdict
    first = page.locator("article.case").first
    assert first.get_attribute("data-case") == "greeting"
    assert page.locator("#regressions article.case").count() == 1
    chips = first.locator(".answer .mhead .chip.role").all_inner_texts()
    assert chips == ["baseline", "candidate"]
    assert first.locator(".head .chip").first.inner_text() == "regression"
    assert page.locator("#cases article.case").first.get_attribute("data-case") == "greeting"  # and in the list
    assert "no price" not in page.locator("#cost").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "quickstart-report.png"))
    assert quickstart_page.problems == [] and quickstart_page.blocked == []


def test_the_word_diff_keeps_the_spaces_between_changes(saved_run: RunOutcome, browser: Any) -> None:
    view = Page(browser, saved_run.run_dir / "report.html")
    try:
        card = view.page.locator("#regressions article.case[data-case='hello']")  # hello regressed
        assert card.count() == 1
        text = card.locator(".diff pre").inner_text()
        assert text == "Hello! How can I help? 1. Open Help."
        assert card.locator(".diff del").inner_text() == "Hello! How can I help?"
        assert card.locator(".diff ins").inner_text() == "1. Open Help."
        improved = view.page.locator("#improvement-list details[data-case='reset']")
        improved.locator("summary").click()
        diff = improved.locator(".diff pre").inner_text()
        # words of the two answers, each kept whole, with "the login page." common to both:
        # nothing run together like "problem!1." or "No1."
        base, tuned = BASE_ANSWER.split(), TUNED_ANSWER.split()
        assert all(word in base or word in tuned for word in diff.split())
        assert len(diff.split()) == len(base) + len(tuned) - 3
        assert "  " not in diff
        assert view.problems == []
    finally:
        view.close()


def test_the_history_page_draws_each_figure_over_the_runs(tmp_path: Path, browser: Any,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    answers = [("1. Click Forgot Password.", "Hello!"), ("1. Click Forgot Password.", "1. Open Help."),
               ("Ask support.", "1. Open Help.")]
    for i, (reset, hello) in enumerate(answers):
        predictions_run(tmp_path / f"round{i}", {"reset": reset, "hello": hello},
                        {"reset": BASE_ANSWER, "hello": "Hello! How can I help?"})
    code, out, _ = cli(["history", "saved", "--dir", str(tmp_path / "reports"), "--html"], capsys)
    assert code == 0
    page_path = Path(out.strip())
    assert page_path == tmp_path / "reports" / "history-saved.html"
    view = Page(browser, page_path, ready="#trends svg.chart")
    try:
        page = view.page
        figures = page.locator("#trends figure").evaluate_all("nodes => nodes.map(n => n.id)")
        assert figures[:3] == ["trend-pass_rate", "trend-error_rate", "trend-regressions"]
        assert "trend-token_f1" in figures
        # pass rate: a point per run for each model; regressions: the candidate only
        assert page.locator("#trend-pass_rate circle").count() == 3 * 2
        assert page.locator("#trend-regressions circle").count() == 3
        titles = page.locator("#trend-regressions circle title").all_text_contents()
        assert [t.rsplit(": ", 1)[1] for t in titles] == ["0", "1", "1"]  # the greeting, from round 2 on
        assert page.locator("#trend-regressions rect.flag").count() == 2  # the two runs whose gate failed
        rows = page.locator("#runs tbody tr")
        assert rows.count() == 3
        href = rows.first.locator("a").get_attribute("href")
        assert href is not None and (page_path.parent / href).is_file()  # newest run's report.html
        for box in page.locator("#trends svg.chart").evaluate_all(
                "nodes => nodes.map(n => n.getBoundingClientRect().toJSON())"):
            assert box["width"] > 150 and box["height"] > 100
        page.screenshot(path=str(ARTIFACTS / "history.png"), full_page=True)
        assert view.problems == [] and view.blocked == []
    finally:
        view.close()
