"""User text reaches the console literally: no emoji codes (`:llama:`), no markup (`[bold]`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.testing import FakeOpenAIServer
from tests.report.helpers import cli, run_dirs

SUITE = """\
name: literal
cases:
  - id: "[bold]first"
    input: "question one"
    tags: [":x:", "[red]tag"]
    required_patterns: ["ok"]
  - id: ":x:second"
    input: "question two"
    required_patterns: ["ok"]
"""


def test_model_names_case_ids_and_tags_print_as_written(
    tmp_path: Path, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    (tmp_path / "s.yaml").write_text(SUITE)
    fake_openai.responder = lambda body: "ok"
    code, out, err = cli(["run", "s.yaml", "-m", "openai:llama", "-m", "openai:[bold]x:x:", "-g", "pass_rate >= 0.5"],
                         capsys)
    assert code == 0, err
    printed = out + err
    assert "openai:llama" in printed and "🦙" not in printed
    assert "openai:[bold]x:x:" in printed and "❌" not in printed
    first = run_dirs(tmp_path)[0]

    fake_openai.responder = lambda body: "ok" if "two" in str(body["messages"]) else "no"
    code, out, err = cli(["run", "s.yaml", "-m", "openai:llama", "-m", "openai:[bold]x:x:", "--no-cache"], capsys)
    assert code == 0, err
    second = next(d for d in run_dirs(tmp_path) if d != first)
    code, out, err = cli(["diff", str(first), str(second), "-m", "openai:llama"], capsys)
    assert "openai:llama" in out and "🦙" not in out
    assert "[bold]first" in out  # the case that went pass -> fail, with its brackets

    code, out, err = cli(["gate", str(second), "--only", "-g", "pass_rate >= 0.9"], capsys)
    assert code == 1
    assert "pass_rate (openai:[bold]x:x:)" in out and "❌" not in out


def test_roles_and_the_baseline_comparison_print_as_written(
    tmp_path: Path, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    (tmp_path / "s.yaml").write_text(SUITE)
    # the candidate fails the first case, which the baseline passes: one regression, named
    fake_openai.responder = lambda body: "no" if body["model"] == "[bold]x:x:" and "one" in str(body["messages"]) else "ok"
    code, out, err = cli(["run", "s.yaml", "-m", "openai:llama", "-m", "openai:[bold]x:x:", "--baseline", "openai:llama"],
                         capsys)
    assert code == 0, err
    printed = out + err
    assert "openai:llama (baseline)" in printed and "openai:[bold]x:x: (candidate)" in printed
    assert "openai:[bold]x:x: vs baseline openai:llama: 1 regression ([bold]first)" in printed
    assert "no judge, so the candidates are compared with the baseline 'openai:llama'" in printed
    assert "🦙" not in printed and "❌" not in printed


def test_progress_bars_and_the_judging_plan_print_names_as_written() -> None:
    import asyncio
    import io

    from rich.console import Console

    from harness.judging.budget import JudgeBill, JudgingBudget, PlanRow, print_budget
    from harness.models.calls import ModelCounters
    from harness.progress import show_progress

    name = "openai:[bold]x:x:"
    buffer = io.StringIO()
    # a terminal, as the progress bars need; emoji codes off as every harness console has them
    console = Console(file=buffer, force_terminal=True, emoji=False, highlight=False, width=200, color_system=None)

    async def main() -> None:
        async with show_progress({name: ModelCounters(total=2, done=1)}, console, True):
            await asyncio.sleep(0)

    asyncio.run(main())
    print_budget(JudgingBudget([PlanRow("pairwise", f"{name} vs base", 8, 16)], [JudgeBill("judge:x:", 16)], 0),
                 console)
    printed = buffer.getvalue()
    assert name in printed and f"{name} vs base" in printed and "judge:x:" in printed
    assert "❌" not in printed
