"""The run history: runs indexed in reports/history.sqlite, `harness history` with trends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from harness.report.history import HISTORY_FILE, load_history, sparkline, trends
from harness.testing import FakeOpenAIServer
from tests.report.conftest import World, make_run
from tests.report.helpers import cli


@pytest.fixture
def history_dir(tmp_path: Path, fake_openai: FakeOpenAIServer) -> Path:
    for fails in ({6}, {6, 7}, {0, 6, 7, 8}):
        fake_openai.responder = World(tuned_fails=fails)
        make_run(tmp_path, fake_openai, cases=12, gates=["pass_rate[tuned] >= 0.8"])
    return tmp_path / "reports"


def test_every_run_is_indexed_with_its_figures(history_dir: Path) -> None:
    with sqlite3.connect(history_dir / HISTORY_FILE) as db:
        runs = list(db.execute("SELECT suite, status, cases, gates_total, gates_failed FROM runs ORDER BY started_at, run_id"))
        pass_rates = [row[0] for row in db.execute(
            "SELECT value FROM figures WHERE model = 'tuned' AND figure = 'pass_rate' ORDER BY run_id")]
    assert runs == [("demo", "complete", 12, 1, 0), ("demo", "complete", 12, 1, 0), ("demo", "complete", 12, 1, 1)]
    assert pass_rates == pytest.approx([11 / 12, 10 / 12, 8 / 12])
    history = load_history(history_dir, "demo")
    assert [run.figures[("tuned", "pass_rate")] for run in history] == pytest.approx([11 / 12, 10 / 12, 8 / 12])
    assert ("tuned", "win_rate") in history[0].figures and ("base", "win_rate") not in history[0].figures
    [trend] = [t for t in trends(history) if (t.model, t.figure) == ("tuned", "pass_rate")]
    assert trend.change == pytest.approx(-2 / 12) and trend.worse


def test_history_command_shows_runs_and_trends(history_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["history", "demo", "--dir", str(history_dir)], capsys)
    assert code == 0
    assert "demo: last 3 runs" in out and out.count("demo-") == 3
    assert "91.7%" in out and "83.3%" in out and "66.7%" in out and "1 failed" in out
    trend_line = next(line for line in out.splitlines() if "tuned" in line and "pass_rate" in line)
    assert "█" in trend_line and "▁" in trend_line and "-16.7 pts" in trend_line
    code, out, _ = cli(["history", "--dir", str(history_dir)], capsys)
    assert code == 0 and "demo" in out and "3" in out
    code, _, err = cli(["history", "nothing", "--dir", str(history_dir)], capsys)
    assert code == 2 and "no runs of suite 'nothing'" in err and "(suites: demo)" in err


def test_runs_missing_from_the_index_are_added(history_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (history_dir / HISTORY_FILE).unlink()
    code, out, _ = cli(["history", "demo", "--dir", str(history_dir), "--figure", "win_rate", "--model", "tuned"], capsys)
    assert code == 0 and out.count("demo-") == 3 and "win rate" in out and "pass rate" not in out


def test_limit_counts_after_the_model_filter(history_dir: Path, fake_openai: FakeOpenAIServer,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    # two newer runs of the baseline alone: `-n 2 --model tuned` still shows two runs of tuned
    for _ in range(2):
        make_run(history_dir.parent, fake_openai, cases=12, judged=False, models=["base"])
    code, out, _ = cli(["history", "demo", "--dir", str(history_dir), "-n", "2", "--model", "tuned"], capsys)
    assert code == 0 and "demo: last 2 runs" in out
    assert out.count("demo-") == 2 and "tuned" in out and "83.3%" in out and "66.7%" in out
    assert [run.models for run in load_history(history_dir, "demo", 2, ["tuned"])] == [["tuned", "base"]] * 2


def test_sparkline() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([2.0, 2.0]) == "▄▄"
    assert sparkline([]) == ""
