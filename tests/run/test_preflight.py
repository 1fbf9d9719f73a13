"""`harness validate` reports everything `run` would refuse, located, all at once; `run` prints the
same list before sending anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.testing import FakeOpenAIServer
from tests.report.helpers import cli

CASES = "cases:\n  - {id: a, input: hi}\n"

TABLE = [
    ("models:\n  base: {spec: opnai:gpt-4o}\n",
     "s.yaml:2:16: model 'base': unknown model spec 'opnai:gpt-4o' (did you mean 'openai:gpt-4o'?)"),
    ("models:\n  base: {spec: gtp-4o-mini}\n",
     "s.yaml:2:16: model 'base': unknown model spec 'gtp-4o-mini' (did you mean 'gpt-4o-mini'?)"),
    ("models:\n  tuned: {spec: 'hf:../datasets/support-lm/bse'}\n",
     "s.yaml:2:17: model 'tuned': base model directory '../datasets/support-lm/bse' not found (looked at "),
    ("models:\n  tuned: {spec: 'hf:model+lora-v2'}\n",
     "s.yaml:2:17: model 'tuned': adapter directory 'lora-v2' not found (looked at "),
    ("models:\n  tuned: {spec: 'hf:lora'}\n",
     "s.yaml:2:17: model 'tuned': 'lora' is a LoRA adapter, not a base model: use hf:<base>+lora"),
    ("models:\n  p: {spec: 'predictions:missing.jsonl'}\n",
     "s.yaml:2:13: model 'p': predictions file 'missing.jsonl' not found (looked at "),
    ("models:\n  old: {spec: 'run:reports/missing'}\n",
     "s.yaml:2:15: model 'old': run directory 'reports/missing' not found or has no run.json (looked at "),
    ("models:\n  base: {spec: gpt-4o-mini}\n  tuned: {spec: gpt-4o}\nbaseline: bsae\n",
     "s.yaml:4:11: baseline 'bsae' is not a model of this suite (did you mean 'base'?)"),
    ("models:\n  base: {spec: gpt-4o-mini}\njudge: {model: 'opnai:judge'}\n",
     "s.yaml:3:16: judge 'opnai:judge' is neither a model of this suite (models: base) nor a model spec: "
     "unknown model spec 'opnai:judge' (did you mean 'openai:judge'?)"),
    ("models:\n  base: {spec: gpt-4o-mini}\njudge: {models: [gpt-4o, 'opnai:judge']}\n",
     "s.yaml:3:26: judge 'opnai:judge' is neither a model of this suite (models: base) nor a model spec: "
     "unknown model spec 'opnai:judge' (did you mean 'openai:judge'?)"),
    ("models:\n  tuned: {spec: gpt-4o}\ngates:\n  - 'pass_rate[tunde] >= 0.5'\n",
     "s.yaml:4:5: gate 'pass_rate[tunde] >= 0.5': model 'tunde' is not in this suite (did you mean 'tuned'?)"),
    ("training_data: [train.jsonl]\n",
     "s.yaml:1:17: training_data 'train.jsonl' not found (looked at "),
    ("defaults: {checks: [{json_schema: schema.json}]}\n",
     "s.yaml:1:35: schema file 'schema.json' not found"),
    ("judge: {model: gpt-4o, rubric: my-rubric.yaml}\n",
     "s.yaml:1:32: judge template 'my-rubric.yaml' not found (looked at my-rubric.yaml)"),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "lora").mkdir()
    (tmp_path / "lora" / "adapter_config.json").write_text("{}")
    return tmp_path


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_validate_locates_each_problem(workdir: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str) -> None:
    (workdir / "s.yaml").write_text(text + CASES)
    code, out, err = cli(["validate", "s.yaml"], capsys)
    assert code == 2, out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_all_problems_come_out_at_once_in_file_order(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "".join(t for t, _ in TABLE[:2]).replace("models:\n  base: {spec: gtp-4o-mini}\n", "  base2: {spec: gtp-4o-mini}\n")
    (workdir / "s.yaml").write_text(text + "baseline: bsae\ntraining_data: [train.jsonl]\n" + CASES)
    code, _, err = cli(["validate", "s.yaml"], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and [line.split(":")[1] for line in lines] == ["2", "3", "4", "5"], lines


def test_a_hub_id_not_downloaded_is_a_note_not_an_error(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(workdir / "empty-hub-cache"))
    (workdir / "s.yaml").write_text("models:\n  hub: {spec: 'hf:acme/support-lm'}\n" + CASES)
    code, out, _ = cli(["validate", "s.yaml"], capsys)
    assert code == 0
    assert out.splitlines()[0] == (
        "s.yaml:2:15: note: model 'hub': 'acme/support-lm' is not a local directory nor a downloaded hub model: "
        "`run` will look it up on the hub"
    )


@pytest.mark.parametrize(("text", "expected"), [
    ("models:\n  base: {spec: gpt-4o-mini}\n  tuned: {spec: gpt-4o}\nbaseline: base\ngates:\n  - 'win_rate >= 0.6'\n",
     "s.yaml:6:5: note: gate 'win_rate >= 0.6' needs an LLM judge and the suite names none: `run` refuses it "
     "unless given --judge SPEC"),
    ("models:\n  tuned: {spec: gpt-4o}\ngates:\n  - 'regressions <= 0'\n",
     "s.yaml:4:5: note: gate 'regressions <= 0' compares a candidate with the baseline and the suite names none: "
     "it fails unless `run` is given --baseline NAME"),
])
def test_gates_the_suite_alone_cannot_serve_are_notes(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                       text: str, expected: str) -> None:
    (workdir / "s.yaml").write_text(text + CASES)
    code, out, err = cli(["validate", "s.yaml"], capsys)
    assert code == 0, err  # `run --judge` / `--baseline` can still supply what the file lacks
    assert out.splitlines()[0] == expected
    judged = text.replace("baseline: base\n", "baseline: base\njudge: {model: gpt-4o}\n")
    (workdir / "s.yaml").write_text(judged.replace("tuned: {spec: gpt-4o}\ngates", "tuned: {spec: gpt-4o}\nbaseline: tuned\ngates")
                                    + CASES)
    code, out, _ = cli(["validate", "s.yaml"], capsys)
    assert code == 0 and "note:" not in out


def test_run_refuses_a_judged_gate_without_a_judge_as_validate_warned(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                                       fake_openai: FakeOpenAIServer) -> None:
    url = fake_openai.base_url
    (workdir / "s.yaml").write_text(
        f"models:\n  base: {{spec: 'openai:base', base_url: '{url}'}}\n  tuned: {{spec: 'openai:tuned', base_url: '{url}'}}\n"
        "baseline: base\ngates:\n  - 'win_rate >= 0.6'\n" + CASES)
    code, _, err = cli(["run", "s.yaml"], capsys)
    assert code == 2 and "gate 'win_rate >= 0.6' needs an LLM judge" in err
    assert fake_openai.request_count == 0


def test_run_prints_the_same_list_before_sending_anything(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                          fake_openai: FakeOpenAIServer) -> None:
    text = (f"models:\n  base: {{spec: 'openai:base', base_url: '{fake_openai.base_url}'}}\n"
            "  tuned: {spec: 'hf:../datasets/support-lm/bse'}\n  other: {spec: opnai:gpt-4o}\n" + CASES)
    (workdir / "s.yaml").write_text(text)
    _, _, validate_err = cli(["validate", "s.yaml"], capsys)
    code, _, run_err = cli(["run", "s.yaml", "-m", "base"], capsys)
    assert code == 2 and run_err == validate_err and len(run_err.strip().splitlines()) == 2
    assert fake_openai.request_count == 0
