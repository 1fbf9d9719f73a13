"""`harness init`: the starter validates, runs offline, passes its data check, and its judge flow
runs against the stand-in endpoint; nothing is overwritten by accident."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.judging.templates import load_template
from harness.stats.bounds import mean_bounds
from harness.testing import FakeOpenAIServer
from harness.testing.policy import ScriptedEndpoint
from harness.testing.script import load_script
from tests.report.helpers import cli

ROOT = Path(__file__).resolve().parents[2]
FILES = ["README.md", "data/train.jsonl", "judges/pairwise.yaml", "predictions/base.jsonl",
         "predictions/tuned.jsonl", "standin.yaml", "suite.yaml"]


@pytest.fixture
def starter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli(["init", "my-eval"], capsys)
    assert code == 0
    assert out.splitlines()[:-1] == [f"wrote {Path('my-eval') / name}" for name in FILES]
    assert out.splitlines()[-1] == "next: cd my-eval && harness validate suite.yaml && harness run suite.yaml && harness view"
    monkeypatch.chdir(tmp_path / "my-eval")
    return tmp_path / "my-eval"


def test_init_validate_run_offline(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["validate", "suite.yaml"], capsys)
    assert code == 0 and "ok, 8 cases (starter)" in out
    code, out, err = cli(["run", "suite.yaml", "-q"], capsys)
    assert code == 0, out + err  # every gate passes
    assert "warning" not in err  # no contamination: the training file shares no case
    # what docs/tutorial.md shows
    assert ("tuned vs baseline base: 1 regression (greeting), 6 improvements, 1 pass on both, 0 fail on both; "
            "8 paired cases cannot show a significant regression: it takes at least 17 pass → fail flips") in out
    assert "gates: all passed" in out
    assert err.startswith("note: no judge, so the candidates are compared with the baseline 'base'")
    (run_dir,) = [p for p in (starter / "reports").iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["comparison"]["tuned"]["regressions"] == 1
    assert [g["passed"] for g in summary["gates"]] == [True, True, True]
    lines = (run_dir / "summary.md").read_text().splitlines()
    assert lines[0] == "## harness: starter — ✅ Ship `tuned`: all 3 gates passed"
    assert any(line.startswith("| greeting | smalltalk | tuned | pass | fail |") for line in lines)
    code, out, _ = cli(["view", "--print"], capsys)
    assert code == 0 and out.strip() == (run_dir / "report.html").resolve().as_uri()
    code, _, _ = cli(["run", "suite.yaml", "-q", "--gate", "regressions[tuned] <= 0"], capsys)
    assert code == 1  # the strict gate: don't ship


def test_the_sample_training_data_is_clean(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["data", "check", "data/train.jsonl", "-q"], capsys)
    assert code == 0, out
    assert "valid 12; with problems 0" in out


def test_the_judge_flow_against_the_stand_in(starter: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = ScriptedEndpoint(load_script(starter / "standin.yaml"))
    with FakeOpenAIServer(responder=endpoint, faults=endpoint.faults) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        code, out, err = cli(["run", "suite.yaml", "-q", "--judge", "openai:judge", "--gate",
                              "win_rate[tuned].lower >= 0.5"], capsys)
        assert code == 0, out + err
        (run_dir,) = [p for p in (starter / "reports").iterdir() if p.is_dir()]
        pairwise = json.loads((run_dir / "summary.json").read_text())["pairwise"]["tuned"]
        # the stand-in prefers numbered steps with menu paths: tuned wins all but the invoice,
        # where both saved answers are the same text (a tie without a judge call)
        assert (pairwise["wins"], pairwise["losses"], pairwise["ties"], pairwise["identical"]) == (7, 0, 1, 1)
        # seven wins and a tie of eight: the bounded-mean (Hoeffding–Bentkus) bound, the 55.1 % the tutorial shows
        assert pairwise["method"] == "hoeffding-bentkus"
        assert pairwise["lower_bound"] == pytest.approx(mean_bounds([1.0] * 7 + [0.5]).lower)
        assert round(100 * pairwise["lower_bound"], 1) == 55.1
        assert "7/0/1" in out and "93.8%" in out
        code, _, _ = cli(["run", "suite.yaml", "-q", "--judge", "openai:judge", "--gate",
                          "win_rate[tuned].lower >= 0.95"], capsys)
        assert code == 1  # the stricter gate fails: don't ship


def test_init_never_overwrites_without_force(starter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (starter / "suite.yaml").write_text("mine\n")
    code, _, err = cli(["init", "."], capsys)
    assert code == 2
    assert err.strip() == ("error: README.md, data/train.jsonl, judges/pairwise.yaml, ... already exist: "
                           "pick an empty folder, or pass --force to overwrite")
    assert (starter / "suite.yaml").read_text() == "mine\n"
    code, out, _ = cli(["init", ".", "--force"], capsys)
    assert code == 0 and out.splitlines()[-1] == "next: harness validate suite.yaml && harness run suite.yaml && harness view"
    assert (starter / "suite.yaml").read_text().startswith("# A starter evaluation")


def test_the_starter_judge_is_the_shipped_example() -> None:
    packaged = ROOT / "harness" / "starter" / "files" / "judges" / "pairwise.yaml"
    assert packaged.read_bytes() == (ROOT / "judges" / "support-pairwise.yaml").read_bytes()
    assert load_template(str(packaged), ROOT, "pairwise").spec.kind == "pairwise"
