"""The `evaluate:` bridge with a local metric script (offline), and its one-line failures."""

from __future__ import annotations

import importlib.util
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from harness.cli import cli, invoke

SCRIPT = '''
"""Test metric: the share of reference words found in the prediction."""
import datasets
import evaluate


class WordOverlap(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="share of reference words present in the prediction",
            citation="",
            inputs_description="predictions and references as strings",
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references, scale=1.0, fail=False):
        if fail:
            raise ValueError("boom")
        shares = []
        for p, r in zip(predictions, references):
            words = r.split()
            shares.append(sum(w in p.split() for w in words) / len(words))
        return {"overlap": scale * sum(shares) / len(shares), "count": len(shares), "note": "not a number"}
'''
ENV = ("HF_HOME", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE")


@pytest.fixture(scope="module")
def offline_hf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """evaluate installed, its caches in a temporary folder, and no hub access."""
    if importlib.util.find_spec("evaluate") is None:
        pytest.skip("evaluate is not installed (pip install 'harness[evaluate]')")
    saved = {key: os.environ.get(key) for key in ENV}
    os.environ["HF_HOME"] = str(tmp_path_factory.mktemp("hf-home"))
    for key in ENV[1:]:
        os.environ[key] = "1"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _run(args: list[str]) -> int:
    return invoke(lambda: cli.main(args=args, prog_name="harness", standalone_mode=False))


def _suite(tmp_path: Path, write_predictions: Callable[[str, dict[str, str]], Path], metrics: str) -> Path:
    (tmp_path / "word_overlap.py").write_text(SCRIPT, encoding="utf-8")
    write_predictions("p.jsonl", {"a": "the red fox", "b": "a blue sky", "c": "green grass"})
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        textwrap.dedent(
            f"""\
            models: {{m: predictions:p.jsonl}}
            metrics: {metrics}
            cases:
              - {{id: a, input: q, reference: red fox jumps, tags: [animals]}}
              - {{id: b, input: q, reference: blue sky}}
              - {{id: c, input: q, references: [dark green grass, x]}}
            """
        ),
        encoding="utf-8",
    )
    return suite


def _outputs(out: Path) -> tuple[list[dict], dict]:
    (run_dir,) = [path for path in out.iterdir() if path.is_dir()]  # beside history.sqlite
    records = [orjson.loads(line) for line in (run_dir / "results.jsonl").read_bytes().splitlines()]
    return records, orjson.loads((run_dir / "summary.json").read_bytes())


@pytest.mark.usefixtures("offline_hf")
def test_corpus_values_from_a_local_script(tmp_path: Path, write_predictions: Callable[[str, dict[str, str]], Path]) -> None:
    suite = _suite(tmp_path, write_predictions, '[{name: "evaluate:./word_overlap.py", options: {compute_args: {scale: 2}}}]')
    assert _run(["run", str(suite), "-o", str(tmp_path / "out"), "-q"]) == 0
    records, summary = _outputs(tmp_path / "out")
    block = summary["models"]["m"]["metrics"]
    # shares: a 2/3, b 2/2, c 2/3 (first reference only); scale 2
    assert block["word_overlap.overlap"] == {"value": pytest.approx(2 * (2 / 3 + 1 + 2 / 3) / 3), "ci": None, "n": 3}
    assert block["word_overlap.count"]["value"] == 3
    assert "word_overlap.note" not in block
    tag = summary["models"]["m"]["by_tag"]["animals"]["metrics"]
    assert tag["word_overlap.overlap"]["value"] == pytest.approx(2 * 2 / 3)
    assert all("metrics" in r and not r["metrics"] for r in records)


@pytest.mark.usefixtures("offline_hf")
def test_per_case_values_with_all_references(tmp_path: Path, write_predictions: Callable[[str, dict[str, str]], Path]) -> None:
    metric = '[{name: "evaluate:./word_overlap.py", options: {per_case: true, name: wo}}]'
    suite = _suite(tmp_path, write_predictions, metric)
    assert _run(["run", str(suite), "-o", str(tmp_path / "out"), "-q"]) == 0
    records, summary = _outputs(tmp_path / "out")
    assert [r["metrics"]["wo.overlap"] for r in records] == pytest.approx([2 / 3, 1.0, 2 / 3])
    figure = summary["models"]["m"]["metrics"]["wo.overlap"]
    assert figure["value"] == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert figure["ci"] is not None and figure["n"] == 3


@pytest.mark.usefixtures("offline_hf")
def test_a_hub_name_offline_fails_before_the_run_with_one_line(
    tmp_path: Path, write_predictions: Callable[[str, dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    suite = _suite(tmp_path, write_predictions, '["evaluate:harness-test-no-such-metric"]')
    assert _run(["run", str(suite), "-o", str(tmp_path / "out"), "-q"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: metric 'evaluate:harness-test-no-such-metric': cannot load it (")
    assert error.endswith("; hub metrics need network access, a local metric script works offline")
    assert "\n" not in error
    assert not (tmp_path / "out").exists()


@pytest.mark.usefixtures("offline_hf")
def test_a_failing_module_stops_the_run_with_exit_3_after_writing_results(
    tmp_path: Path, write_predictions: Callable[[str, dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    suite = _suite(tmp_path, write_predictions, '[bleu, {name: "evaluate:./word_overlap.py", options: {compute_args: {fail: true}}}]')
    assert _run(["run", str(suite), "-o", str(tmp_path / "out"), "-q"]) == 3
    assert "metric 'evaluate:./word_overlap.py' failed: ValueError: boom" in capsys.readouterr().err
    records, summary = _outputs(tmp_path / "out")
    assert len(records) == 3 and "bleu" in summary["models"]["m"]["metrics"]
