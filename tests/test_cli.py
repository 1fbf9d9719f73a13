"""The command line: exit codes, one-line errors, no tracebacks, fast start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.testing import FakeOpenAIServer


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text("name: t\ncases:\n  - {id: a, input: hi, tags: [x]}\n  - {id: b, input: yo, tags: [x, y]}\n")
    return path


def test_validate_prints_counts(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["validate", str(suite)], capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [f"{suite}: ok, 2 cases (t)", "  source inline: 2", "  tag x: 2", "  tag y: 1"]


def test_validate_reports_every_problem_of_every_suite(suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n  - input: a\n    tagz: []\n")
    code, _out, err = cli(["validate", str(suite), str(bad), str(tmp_path / "none.yaml")], capsys)
    assert code == 2
    assert err.splitlines() == [
        f"{bad}:3:5: unknown key 'tagz' (did you mean 'tags'?)",
        f"{tmp_path / 'none.yaml'}: file not found",
    ]
    assert "Traceback" not in err


def test_run_usage_errors_exit_2_with_one_line(suite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["run", str(suite), "--model", "llama"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: unknown model spec 'llama'")
    code, _, err = cli(["run", str(suite), "--model", "gpt-4o-mini"], capsys)
    assert code == 2 and err.startswith("error: model 'gpt-4o-mini' calls api.openai.com but OPENAI_API_KEY is not set")
    code, _, err = cli(["run", str(suite) + ".missing", "-m", "openai:x"], capsys)
    assert code == 2 and err.strip().endswith("file not found")
    code, _, err = cli(["run", str(suite), "--concurrency", "0"], capsys)
    assert code == 2 and "Invalid value for '-c' / '--concurrency'" in err


def test_run_success_and_unreachable_endpoint(suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    out_dir = tmp_path / "out"
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        code, out, err = cli(["run", str(suite), "-m", "openai:m", "-o", str(out_dir), "-q"], capsys)
    assert code == 0, err
    assert "Run directory: " in out and str(out_dir) in out
    assert "openai:m" in out and "100.0%" in out

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    code, out, err = cli(["run", str(suite), "-m", "openai:m", "-o", str(out_dir), "-q", "--max-retries", "0"], capsys)
    assert code == 3
    lines = err.splitlines()
    assert lines[0].startswith("error: model 'openai:m': the endpoint is unreachable")
    assert lines[1].startswith("Partial results: ")
    assert "Traceback" not in err


def test_debug_shows_the_traceback(suite: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(suite), "-m", "llama", "--debug"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode != 0 and "Traceback" in result.stderr and "UsageError" in result.stderr


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, harness.cli; "
        "heavy = [m for m in ('openai', 'torch', 'transformers', 'peft', 'ray', 'pandas', 'numpy', 'aiohttp') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ})
    assert result.stdout.strip() == ""


def test_a_closed_output_pipe_is_not_reported_as_a_failed_gate(suite: Path) -> None:
    # stdout is closed before the command writes: click's broken-pipe path, which exits 1 by itself
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "validate", *[str(suite)] * 200],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 141
    assert b"Traceback" not in stderr


@pytest.mark.parametrize("expected", [0, 1, 2, 3])
def test_debug_adds_tracebacks_and_changes_no_exit_code(
    expected: int, suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = str(tmp_path / "out")
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        args = {
            0: ["validate", str(suite)],
            1: ["run", str(suite), "-m", "openai:m", "-o", out, "-q", "--gate", "pass_rate >= 0.5",
                "--filter", "a", "--max-retries", "0"],
            2: ["validate", str(tmp_path / "missing.yaml")],
            3: ["run", str(suite), "-m", "openai:m", "-o", out, "-q", "--max-retries", "0"],
        }[expected]
        if expected == 1:
            suite.write_text("name: t\ncases:\n  - {id: a, input: hi, required_patterns: [never-said]}\n")
        if expected == 3:
            monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        plain, _, plain_err = cli(args, capsys)
        debug, _, debug_err = cli([*args, "--debug"], capsys)
    assert plain == debug == expected, (plain_err, debug_err)
    assert "Traceback" not in plain_err
    if expected >= 2:
        assert "Traceback" in debug_err
        assert debug_err.splitlines()[-1] == plain_err.splitlines()[-1] or expected == 3  # the same message last


@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_is_exit_3_with_or_without_debug(
    debug: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.cli

    def call() -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(harness.cli, "_debug", debug)
    assert harness.cli.invoke(call) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("internal error: ZeroDivisionError: boom")
    assert ("Traceback" in err) is debug


@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("harness vi", "1", {"plain,view"}),
    ("harness in", "1", {"plain,init"}),
    ("harness history --ht", "2", {"plain,--html"}),
])
def test_shell_completion_answers_and_exits_0(words: str, cword: str, expected: set[str]) -> None:
    """The protocol docs/cli.md documents: `eval "$(_HARNESS_COMPLETE=bash_source harness)"`."""
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": cword, "_HARNESS_COMPLETE": "bash_complete"}
    script = str(Path(sys.executable).parent / "harness")  # the console script the shell calls
    result = subprocess.run([script], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == expected
    source = subprocess.run([script], capture_output=True, text=True, check=False,
                            env={**os.environ, "_HARNESS_COMPLETE": "bash_source"})
    assert source.returncode == 0 and "complete -o nosort -F _harness_completion harness" in source.stdout
