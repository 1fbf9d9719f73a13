"""A win_rate rule against a pinned baseline (recorded answers) and a judge, on the local server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.testing import FakeOpenAIServer
from tests.judging.conftest import BASELINE, SUITE, Scripted
from tests.report.helpers import cli


def test_win_rate_rule_against_recorded_baseline_answers(
    tmp_path: Path, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.chdir(tmp_path)
    fake_openai.responder = Scripted()
    Path("baseline.jsonl").write_text("".join(json.dumps({"id": f"q{n}", "output": text}) + "\n"
                                              for n, text in BASELINE.items()))
    Path("suite.yaml").write_text(SUITE + "monitor:\n  rules: ['win_rate >= 80%', 'win_rate >= 70%']\n")
    code, out, _ = cli(["monitor", "suite.yaml", "--once", "--model", "openai:cand", "--baseline",
                        "predictions:baseline.jsonl", "--judge", "openai:judge", "--textfile", "tf"], capsys)
    # W/L/T = 4/1/1: win rate 4.5/6 = 75%
    assert code == 1
    [alert] = [line for line in out.splitlines() if line.startswith("ALERT")]
    assert "win_rate >= 80%: win_rate 75.0%, not >= 80.0%" in alert
    assert "[openai:cand]" in alert
    text = next(Path("tf").iterdir()).read_text()
    assert ('harness_win_rate{baseline="predictions:baseline.jsonl",model="openai:cand",suite="judged"} 0.75'
            in text)
