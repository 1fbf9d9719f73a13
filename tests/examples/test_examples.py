"""Everything in examples/ and judges/ works as its comments say: suites validate (and the offline
ones run), stand-in scripts load, the data sample's planted problems are all found, the CI
snippets call commands and options that exist, and the judge templates load."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from harness.cli import cli as harness_cli
from harness.judging.templates import load_template
from harness.testing import FakeOpenAIServer
from harness.testing.policy import ScriptedEndpoint
from harness.testing.script import load_script
from tests.report.helpers import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def kind_of(path: Path) -> str:
    """What an example YAML file is, from its top-level keys."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and ("cases" in data or "sources" in data):
        return "suite"
    if isinstance(data, dict) and "judge" in data and "prefer" in (data.get("judge") or {}):
        return "stand-in script"
    if isinstance(data, dict) and "jobs" in data:
        return "github workflow"
    if isinstance(data, dict) and any(isinstance(v, dict) and "script" in v for v in data.values()):
        return "gitlab job"
    return "unknown"


YAML_FILES = sorted(EXAMPLES.rglob("*.yml")) + sorted(EXAMPLES.rglob("*.yaml"))


def test_every_example_file_is_known() -> None:
    kinds = {path.relative_to(EXAMPLES).as_posix(): kind_of(path) for path in YAML_FILES}
    assert kinds == {
        "classification.yaml": "suite", "endpoint.yaml": "suite", "judge-win-rate.yaml": "suite",
        "standin.yaml": "stand-in script", "github-actions.yml": "github workflow", "gitlab-ci.yml": "gitlab job",
    }


@pytest.mark.parametrize("path", [p for p in YAML_FILES if kind_of(p) == "suite"], ids=lambda p: p.name)
def test_every_example_suite_validates(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["validate", str(path)], capsys)
    assert code == 0, err
    assert out.startswith(f"{path}: ok, ")


def test_the_stand_in_script_loads_and_serves_the_judge_suite() -> None:
    script = load_script(EXAMPLES / "standin.yaml")
    suite = yaml.safe_load((EXAMPLES / "judge-win-rate.yaml").read_text())
    assert set(script.served) >= {spec.removeprefix("openai:") for spec in suite["models"].values()}


def test_the_classification_example_runs_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(["run", str(EXAMPLES / "classification.yaml"), "-q", "-o", str(tmp_path / "out")], capsys)
    assert code == 0, out + err
    (run_dir,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["models"]["tuned"]["metrics"]["accuracy"]["value"] == pytest.approx(15 / 16)
    assert (summary["comparison"]["tuned"]["regressions"], summary["comparison"]["tuned"]["improvements"]) == (0, 5)


def test_the_judge_example_runs_against_the_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = ScriptedEndpoint(load_script(EXAMPLES / "standin.yaml"))
    with FakeOpenAIServer(responder=endpoint, faults=endpoint.faults) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        code, out, err = cli(["run", str(EXAMPLES / "judge-win-rate.yaml"), "-q", "-o", str(tmp_path / "out")], capsys)
    assert code == 0, out + err
    (run_dir,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text())
    pairwise = summary["pairwise"]["tuned"]
    assert (pairwise["wins"], pairwise["losses"], pairwise["ties"]) == (7, 1, 0)  # the API key answer loses
    assert [c["case_id"] for c in summary["comparison"]["tuned"]["regressed"]] == ["api-key"]
    assert all(gate["passed"] for gate in summary["gates"]) and len(summary["gates"]) == 4


def planted() -> dict[int, set[str]]:
    """line -> kinds, from the table in examples/data-check/README.md."""
    table: dict[int, set[str]] = {}
    for row in (EXAMPLES / "data-check" / "README.md").read_text().splitlines():
        found = re.match(r"\| (\d+) \| .* \| (.*) \|$", row)
        if found:
            table[int(found.group(1))] = set(re.findall(r"`(\w+)`", found.group(2)))
    return table


def test_the_data_sample_has_exactly_its_planted_problems(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(["data", "check", str(EXAMPLES / "data-check" / "train.jsonl"), "-q", "--json"], capsys)
    assert code == 1  # the gate: problems were found
    report = json.loads(out)
    found: dict[int, set[str]] = {}
    for problem in report["problems"]:
        found.setdefault(int(problem["line"]), set()).add(problem["kind"])
    expected = planted()
    assert len(expected) == 9 and found == expected
    assert (report["examples"], report["kept_by_clean"]) == (16, 10)


def harness_commands(text: str) -> list[list[str]]:
    """`harness ...` invocations in a CI script (folded YAML joins their lines; `if ...; then harness ...;`
    and `a && harness ...` count too)."""
    commands = []
    for line in text.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|;|\bthen\b", line):
            part = part.strip()
            if part.startswith("harness "):
                commands.append(shlex.split(part)[1:])
    return commands


def resolve_command(args: list[str]) -> tuple[click.Command, list[str]]:
    """The click command an argument list names (descending into groups such as `cache`), and the rest."""
    command: click.Command = harness_cli
    while isinstance(command, click.Group) and args and args[0] in command.commands:
        command, args = command.commands[args[0]], args[1:]
    return command, args


def ci_scripts(path: Path) -> list[str]:
    data: Any = yaml.safe_load(path.read_text())
    if "jobs" in data:
        return [step["run"] for job in data["jobs"].values() for step in job["steps"] if "run" in step]
    return [line for job in data.values() if isinstance(job, dict)
            for key in ("before_script", "script", "after_script") for line in job.get(key, [])]


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_snippets_call_commands_and_options_that_exist(name: str) -> None:
    commands = [c for script in ci_scripts(EXAMPLES / name) for c in harness_commands(script)]
    assert {c[0] for c in commands} >= {"run", "cache"}
    for args in commands:
        command, rest = resolve_command(args)
        assert not isinstance(command, click.Group), (name, args)  # names a real subcommand
        known = {opt for param in command.params if isinstance(param, click.Option) for opt in param.opts}
        options = [a for a in rest if a.startswith("-")]
        assert set(options) <= known, (name, args)
        for suite in (a for a in rest if a.endswith(".yaml")):
            assert (ROOT / suite).is_file(), suite


@pytest.mark.parametrize("path", sorted((ROOT / "judges").glob("*.yaml")), ids=lambda p: p.name)
def test_the_judge_templates_load(path: Path) -> None:
    kind = yaml.safe_load(path.read_text())["kind"]
    template = load_template(str(path), ROOT, kind)
    assert template.spec.kind == kind
    used = " ".join(p.read_text() for p in EXAMPLES.glob("*.yaml"))
    assert f"../judges/{path.name}" in used  # every shipped template is used by an example
