"""`harness diff`: flips, exact McNemar, paired bootstrap deltas, and --fail-on-regression."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.diff import diff_runs
from harness.run.store import load_run
from harness.stats.paired import paired_bootstrap
from harness.testing import FakeOpenAIServer
from tests.report.conftest import World, make_run
from tests.report.helpers import cli


@pytest.fixture
def two_runs(tmp_path: Path, fake_openai: FakeOpenAIServer) -> tuple[Path, Path]:
    fake_openai.responder = World()
    before = make_run(tmp_path, fake_openai, cases=12).run_dir
    # the new tuned model loses `step` on cases 0-7: seven pass -> fail flips (case 6 already failed)
    fake_openai.responder = World(xss_case=-1, tuned_fails=set(range(8)))
    after = make_run(tmp_path, fake_openai, cases=12).run_dir
    return before, after


def test_flips_mcnemar_and_paired_deltas(two_runs: tuple[Path, Path]) -> None:
    before, after = two_runs
    result = diff_runs(load_run(before), load_run(after))
    assert [m.label for m in result.models] == ["tuned", "base"]
    tuned, base = result.models
    assert tuned.paired == 12
    assert [f.case_id for f in tuned.regressed] == [f"case-{i:04d}" for i in (0, 1, 2, 3, 4, 5, 7)]
    assert tuned.fixed == [] and tuned.regressed[0].reasons == ["required: 'step': missing"]
    # exact McNemar by hand: b = 7, c = 0, p = 2 * (1/2)^7
    assert (tuned.mcnemar.regressions, tuned.mcnemar.improvements) == (7, 0)
    assert tuned.mcnemar.p_value == pytest.approx(2 / 128)
    assert tuned.pass_rate is not None
    assert (tuned.pass_rate.base_mean, tuned.pass_rate.new_mean) == (pytest.approx(11 / 12), pytest.approx(4 / 12))
    assert tuned.pass_rate.delta == pytest.approx(-7 / 12) and tuned.pass_rate.interval.high < 0
    # win rate over the items judged in both runs: the same paired bootstrap, computed from the lines
    assert tuned.win_rate is not None and tuned.win_rate.n == 12 and tuned.win_rate.delta < 0
    assert tuned.significant_regression and "exact McNemar p = 0.0156" in tuned.reasons[0]
    assert base.mcnemar.regressions == 0 and not base.significant_regression and base.win_rate is None
    assert result.significant_regression and result.added == [] and result.removed == []


def test_win_rate_delta_matches_a_hand_paired_bootstrap(two_runs: tuple[Path, Path]) -> None:
    before, after = two_runs
    tuned = diff_runs(load_run(before), load_run(after)).models[0]

    def scores(run: Path) -> list[float]:
        lines = load_run(run).judgments
        by_case = {line["case_id"]: line["score"] for line in lines if line["kind"] == "pairwise"}
        return [by_case[f"case-{i:04d}"] for i in range(12)]

    old, new = scores(before), scores(after)
    # the judge prefers the answer that says `step`: base says it on even cases only, so run 1 ties
    # even cases and wins odd ones except case 6 (a loss); run 2 also loses or ties cases 0-7
    assert old == [0.5, 1, 0.5, 1, 0.5, 1, 0, 1, 0.5, 1, 0.5, 1]
    assert new == [0, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5, 1, 0.5, 1]
    assert tuned.win_rate == paired_bootstrap(old, new)


def test_diff_cli_writes_files_and_exit_codes(two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before, after = two_runs
    code, out, _ = cli(["diff", str(before), str(after)], capsys)
    assert code == 0 and "significant regression" in out and "pass → fail case-0000" in out
    code, out, _ = cli(["diff", str(before), str(after), "--fail-on-regression"], capsys)
    assert code == 1
    code, out, _ = cli(["diff", str(after), str(after), "--fail-on-regression"], capsys)
    assert code == 0 and "no significant regression" in out
    code, _, _ = cli(["diff", str(before), str(after), "--model", "base", "--fail-on-regression"], capsys)
    assert code == 0
    md = (after / "diff.md").read_text()
    assert md.startswith("## harness diff: demo — ✅ no significant regression")  # the last diff: --model base
    code, _, _ = cli(["diff", str(before), str(after), "-o", str(before / "d")], capsys)
    md = (before / "d" / "diff.md").read_text()
    assert "❌ significant regression" in md and "pass → fail **7**" in md and "exact McNemar p = 0.0156" in md
    assert "| case-0000 | account | required: 'step': missing |" in md
    html = (before / "d" / "diff.html").read_text()
    assert "case-0007" in html and "<script>window" not in html and "&lt;script&gt;" in html
    code, _, err = cli(["diff", str(before), str(after), "--model", "nobody"], capsys)
    assert code == 2 and "model 'nobody' is not in both runs" in err


def test_diff_refuses_runs_of_different_suites(two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before, after = two_runs
    run_file = after / "run.json"
    run_file.write_text(run_file.read_text().replace('"name": "demo"', '"name": "other"'))
    code, _, err = cli(["diff", str(before), str(after)], capsys)
    assert code == 2 and err.strip() == (
        "error: the runs are of different suites ('demo' and 'other'): harness diff compares two runs of one suite"
    )
