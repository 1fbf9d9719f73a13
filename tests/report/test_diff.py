"""`harness diff`: flips, exact McNemar, paired bootstrap deltas, and --fail-on-regression."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.diff import diff_runs
from harness.report.diff_render import model_rows
from harness.run.store import load_run
from harness.stats.mcnemar import smallest_significant_regressions
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


@pytest.fixture
def small_runs(tmp_path: Path, fake_openai: FakeOpenAIServer) -> tuple[Path, Path]:
    """8 cases, pass rate 50 % then 25 %: two pass -> fail flips, nothing McNemar can call significant."""
    fake_openai.responder = World(xss_case=-1, tuned_fails={0, 1, 2, 3})
    before = make_run(tmp_path, fake_openai, cases=8, judged=False, models=["tuned", "base"]).run_dir
    fake_openai.responder = World(xss_case=-1, tuned_fails={0, 1, 2, 3, 4, 5})
    after = make_run(tmp_path, fake_openai, cases=8, judged=False, models=["tuned", "base"]).run_dir
    return before, after


def test_smallest_significant_number_of_flips() -> None:
    # no fail -> pass: p = 2 * 0.5**b; 2/32 = 0.0625 > 0.05 >= 2/64
    assert smallest_significant_regressions(0, 0.05) == 6
    # one fail -> pass: p = 2 * (1 + n) / 2**n with n = b + 1; b = 7 gives 0.070, b = 8 gives 0.039
    assert smallest_significant_regressions(1, 0.05) == 8
    assert smallest_significant_regressions(0, 0.01) == 8  # 2/128 = 0.0156, 2/256 = 0.0078


def test_a_small_sample_says_what_it_cannot_show(small_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before, after = small_runs
    tuned = diff_runs(load_run(before), load_run(after), ["tuned"]).models[0]
    assert (tuned.mcnemar.regressions, tuned.mcnemar.improvements, tuned.paired) == (2, 0, 8)
    assert not tuned.significant_regression and tuned.inconclusive and tuned.needed_flips == 6
    code, out, _ = cli(["diff", str(before), str(after), "--model", "tuned", "--fail-on-regression"], capsys)
    assert code == 0
    assert "2 pass → fail flips are not significant at α = 0.05" in out
    assert "it takes at least 6 pass → fail flips on these 8 cases" in out
    assert "no significant regression shown" in out and "cannot rule one out" in out
    assert (after / "diff.md").read_text().startswith("## harness diff: demo — ⚠️ no significant regression shown")
    # --max-flips fails on the count, whatever the significance
    code, out, _ = cli(["diff", str(before), str(after), "--model", "tuned", "--max-flips", "1"], capsys)
    assert code == 1 and "2 pass→fail flips for tuned, more than --max-flips 1" in out
    code, _, _ = cli(["diff", str(before), str(after), "--model", "tuned", "--max-flips", "2"], capsys)
    assert code == 0


def test_too_few_cases_to_ever_be_significant(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.responder = World(xss_case=-1, tuned_fails=set())
    before = make_run(tmp_path, fake_openai, cases=4, judged=False, models=["tuned", "base"]).run_dir
    after = make_run(tmp_path, fake_openai, cases=4, judged=False, models=["tuned", "base"]).run_dir
    tuned = diff_runs(load_run(before), load_run(after), ["tuned"]).models[0]
    assert tuned.mcnemar.regressions == 0 and not tuned.detectable and tuned.inconclusive
    assert tuned.power_note() == (
        "4 paired cases cannot show a significant regression: it takes at least 6 pass → fail flips "
        "for exact McNemar at α = 0.05"
    )


def test_bleu_and_chrf_are_the_runs_corpus_figures(two_runs: tuple[Path, Path]) -> None:
    before, after = two_runs
    tuned = diff_runs(load_run(before), load_run(after)).models[0]
    for name in ("bleu", "chrf"):
        corpus = [load_run(run).summary["models"]["tuned"]["metrics"][name]["value"] for run in (before, after)]
        assert tuned.corpus[name] == tuple(corpus)
        assert name not in tuned.metrics and f"{name} (sentence mean)" in tuned.metrics
    rows = {row["figure"]: row for row in model_rows(tuned)}
    assert rows["bleu (corpus)"]["base"] == f"{tuned.corpus['bleu'][0]:.2f}"
    assert "bleu (sentence mean)" in rows
