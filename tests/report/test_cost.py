"""The cost block: per-request and monthly cost from the price table or the suite, and the break-even."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import SuiteError
from harness.gates.evaluate import evaluate_gates, parse_gates
from harness.gates.figures import RunFigures
from harness.pricing import load_price_table
from harness.report.cost import cost_block
from harness.suite.loader import load_suite
from harness.testing import FakeOpenAIServer
from tests.report.conftest import World, suite_text
from tests.report.helpers import cli, run_dirs

TUNED = "ft:gpt-4o-mini-2024-07-18:acme:support:abc"


def block(answered: int, prompt: int, completion: int) -> dict[str, Any]:
    return {"answered": answered, "prompt_tokens": prompt, "completion_tokens": completion}


def run_json(**cost: Any) -> dict[str, Any]:
    return {"models": [{"name": "tuned", "spec": TUNED}, {"name": "base", "spec": "gpt-4o"}],
            "judge": {"baseline": "base"}, "cost": cost}


def test_price_table_fine_tuned_rates_and_break_even() -> None:
    summary = {"models": {"tuned": block(10, 1000, 500), "base": block(10, 1000, 500)}}
    table = load_price_table()
    tuned_price = table.resolve(TUNED)
    base_price = table.resolve("gpt-4o")
    assert tuned_price is not None and base_price is not None and tuned_price.fine_tuned
    cost = cost_block(run_json(monthly_requests=10_000, training_cost=12.0), summary, table)
    tuned, base = cost["models"]["tuned"], cost["models"]["base"]
    # 100 prompt and 50 completion tokens per request
    expected_tuned = (100 * tuned_price.input_per_1m + 50 * tuned_price.output_per_1m) / 1e6  # type: ignore[operator]
    expected_base = (100 * base_price.input_per_1m + 50 * base_price.output_per_1m) / 1e6  # type: ignore[operator]
    assert tuned["per_request"] == pytest.approx(expected_tuned)
    assert tuned["per_1k_requests"] == pytest.approx(1000 * expected_tuned)
    assert tuned["monthly"] == pytest.approx(10_000 * expected_tuned)
    assert tuned["run"] == pytest.approx(10 * expected_tuned)
    assert tuned["priced_as"] == "gpt-4o-mini (fine-tuned)" and base["priced_as"] == "gpt-4o"
    even = cost["break_even"]
    assert even["requests"] == pytest.approx(12.0 / (expected_base - expected_tuned))
    assert even["months"] == pytest.approx(even["requests"] / 10_000)
    assert even["text"].startswith("tuned repays its 12.00 USD training after ")


def test_suite_prices_win_and_hand_computed_break_even() -> None:
    summary = {"models": {"tuned": block(4, 400, 200), "base": block(4, 400, 200)}}
    prices = {"tuned": {"input": 0.3, "output": 1.2}, "base": {"input": 2.5, "output": 10.0}}
    cost = cost_block(run_json(prices=prices, training_cost=12.0, monthly_requests=10_000), summary)
    # per request: tuned (100*0.3 + 50*1.2)/1e6 = 9e-5, base (100*2.5 + 50*10)/1e6 = 7.5e-4
    assert cost["models"]["tuned"]["per_request"] == pytest.approx(9e-5)
    assert cost["models"]["base"]["per_request"] == pytest.approx(7.5e-4)
    assert cost["break_even"]["requests"] == pytest.approx(12.0 / 6.6e-4)  # 18,182 requests
    assert cost["break_even"]["months"] == pytest.approx(12.0 / 6.6e-4 / 10_000)
    assert "(1.8 months at 10,000 requests a month)" in cost["break_even"]["text"]


def test_training_cost_from_tokens_and_no_break_even_when_dearer() -> None:
    summary = {"models": {"tuned": block(1, 100, 50), "base": block(1, 100, 50)}}
    table = load_price_table()
    cost = cost_block(run_json(training_tokens=500_000, epochs=3), summary, table)
    assert cost["break_even"]["training_cost"] == pytest.approx(table.training_cost(TUNED, 500_000, 3))
    dear = cost_block(run_json(prices={"tuned": {"input": 5, "output": 20}, "base": {"input": 1, "output": 1}}), summary)
    assert dear["break_even"]["requests"] is None and "no break-even" in dear["break_even"]["text"]


def test_unpriced_models_and_predictions_say_why() -> None:
    run = {"models": [{"name": "mine", "spec": "openai:my-model"}, {"name": "saved", "spec": "predictions:x.jsonl"}]}
    summary = {"models": {"mine": block(2, 20, 10), "saved": block(2, 0, 0)}}
    cost = cost_block(run, summary)
    assert cost["models"]["mine"]["missing"] == "no price for 'openai:my-model': add it under cost.prices in the suite"
    assert cost["models"]["saved"]["missing"].startswith("no token counts")
    rows = evaluate_gates(parse_gates(["cost_per_1k[mine] <= 1"]), RunFigures(summary | {"cost": cost}, run))
    assert not rows[0].passed and "no price" in rows[0].note


def test_local_models_make_no_price_noise_and_take_a_suite_compute_cost() -> None:
    run = {"models": [{"name": "tuned", "spec": "hf:models/base+models/lora", "kind": "hf"},
                      {"name": "base", "spec": "hf:models/base", "kind": "hf"}], "baseline": "base"}
    summary = {"models": {"tuned": block(4, 400, 100), "base": block(4, 400, 200)}}
    cost = cost_block(run, summary)
    assert cost["notes"] == []  # on main this was one "no price for 'hf:...'" note per model
    assert cost["models"]["tuned"]["local"] and "runs locally" in cost["models"]["tuned"]["missing"]
    # the suite's prices, as the compute cost of running them: the break-even against the baseline follows
    priced = cost_block(run | {"cost": {"prices": {"tuned": {"input": 0.1, "output": 0.2},
                                                   "base": {"input": 0.1, "output": 0.2}}}}, summary)
    assert priced["models"]["tuned"]["per_request"] == pytest.approx((100 * 0.1 + 25 * 0.2) / 1e6)
    assert priced["notes"] == [] and priced["break_even"]["baseline"] == "base"


def test_cost_in_a_run_gates_and_reports(tmp_path: Path, fake_openai: FakeOpenAIServer,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    fake_openai.responder = World()
    suite = tmp_path / "suite.yaml"
    suite.write_text(suite_text(fake_openai.base_url, 6) + "cost:\n  prices:\n    tuned: {input: 0.3, output: 1.2}\n"
                     "    base: {input: 2.5, output: 10}\n  training_cost: 12\n", encoding="utf-8")
    code, out, _ = cli(["run", str(suite), "-q", "--no-cache", "-o", str(tmp_path / "reports"), "--monthly-requests",
                        "100000", "--gate", "cost_per_1k[tuned] <= 0.01"], capsys)
    assert code == 0, out
    run_dir = run_dirs(tmp_path)[-1]
    summary = json.loads((run_dir / "summary.json").read_text())
    tuned = summary["models"]["tuned"]
    per_request = (tuned["prompt_tokens"] * 0.3 + tuned["completion_tokens"] * 1.2) / tuned["answered"] / 1e6
    assert summary["cost"]["models"]["tuned"]["per_request"] == pytest.approx(per_request)
    assert summary["cost"]["models"]["tuned"]["monthly"] == pytest.approx(per_request * 100_000)
    assert summary["cost"]["monthly_requests"] == 100_000
    assert "repays its 12.00 USD training" in (run_dir / "report.html").read_text()
    assert "Fine-tune break-even: tuned repays" in (run_dir / "summary.md").read_text()
    code, _, _ = cli(["report", str(run_dir), "--no-history", "--monthly-requests", "5000"], capsys)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["cost"]["models"]["tuned"]["monthly"] == pytest.approx(per_request * 5000)


def test_cost_settings_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("cases: [{id: a, input: hi}]\ncost: {monthly_requests: 0, prices: {x: {input: 1}}}\n")
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    assert caught.value.lines() == [
        f"{path}:2:26: monthly_requests: input should be greater than 0 (got 0)",
        f"{path}:2:41: missing required key 'output'",
    ]


def test_batched_answers_cost_the_batch_rate() -> None:
    """10 answers, 4 of them through the Batch API carrying 400 of the 1,000 prompt and 200 of the 500 completion tokens."""
    summary = {"models": {
        "tuned": {**block(10, 1000, 500), "batch": block(4, 400, 200)},
        "base": {**block(10, 1000, 500), "batch": block(10, 1000, 500)},
    }}
    prices = {"tuned": {"input": 0.3, "output": 1.2}, "base": {"input": 2.0, "output": 8.0, "batch": {"input": 1.5, "output": 5.0}}}
    cost = cost_block(run_json(prices=prices, monthly_requests=1000), summary)
    tuned, base = cost["models"]["tuned"], cost["models"]["base"]
    # online part 600 x 0.3 + 300 x 1.2, batched part at half: 400 x 0.15 + 200 x 0.6
    assert tuned["run"] == pytest.approx((600 * 0.3 + 300 * 1.2 + 400 * 0.15 + 200 * 0.6) / 1e6)
    assert tuned["batched"] == 4 and tuned["batch_priced_as"] == "half the suite's cost.prices"
    assert (tuned["batch_input_per_1m"], tuned["batch_output_per_1m"]) == (0.15, 0.6)
    assert tuned["per_request"] == pytest.approx((100 * 0.3 + 50 * 1.2) / 1e6)  # projections stay online
    assert tuned["monthly"] == pytest.approx(1000 * tuned["per_request"])
    assert base["run"] == pytest.approx((1000 * 1.5 + 500 * 5.0) / 1e6)  # the suite's own batch price
    assert base["batch_priced_as"] == "the suite's cost.prices batch price"
    assert any(note.startswith("tuned: 4 of 10 answers came through the Batch API") for note in cost["notes"])
    assert any(note.startswith("base: 10 of 10 answers") for note in cost["notes"])


def test_batch_rates_from_the_price_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = load_price_table()
    quote = table.resolve(TUNED)
    assert quote is not None and quote.input_per_1m is not None and quote.output_per_1m is not None
    assert quote.batch_input_per_1m == pytest.approx(quote.input_per_1m / 2)  # fine-tuned rates, halved
    assert quote.batch_output_per_1m == pytest.approx(quote.output_per_1m / 2)
    summary = {"models": {"tuned": {**block(2, 200, 100), "batch": block(2, 200, 100)}}}
    cost = cost_block({"models": [{"name": "tuned", "spec": TUNED}]}, summary, table)
    assert cost["models"]["tuned"]["run"] == pytest.approx((200 * quote.input_per_1m + 100 * quote.output_per_1m) / 2 / 1e6)
    assert cost["models"]["tuned"]["batch_priced_as"] == "half of gpt-4o-mini (fine-tuned)"

    own = tmp_path / "prices.yaml"
    own.write_text("models:\n  gpt-4o-mini:\n    input: 1\n    output: 2\n    fine_tuned_input: 3\n    fine_tuned_output: 4\n"
                   "    batch: {input: 0.7, fine_tuned_input: 2.5, fine_tuned_output: 1}\n")
    custom = load_price_table(own)
    tuned, base = custom.resolve(TUNED), custom.resolve("gpt-4o-mini")
    assert tuned is not None and base is not None
    assert (tuned.batch_input_per_1m, tuned.batch_output_per_1m) == (2.5, 1.0)
    assert (base.batch_input_per_1m, base.batch_output_per_1m) == (0.7, 1.0)  # output: half of 2
    cost = cost_block({"models": [{"name": "tuned", "spec": TUNED}]}, summary, custom)
    assert cost["models"]["tuned"]["batch_priced_as"] == "gpt-4o-mini (fine-tuned) batch price"
    assert cost["models"]["tuned"]["run"] == pytest.approx((200 * 2.5 + 100 * 1.0) / 1e6)


def test_a_recorded_baseline_is_priced_as_the_model_it_recorded() -> None:
    """A `run:` model's tokens are those of the model it recorded: a retiring fine-tune keeps its price."""
    run = {"models": [{"name": "new", "spec": "gpt-4o"},
                      {"name": "old", "spec": "run:baselines/ft-final", "recorded": {"spec": TUNED}}],
           "judge": {"baseline": "old"}, "cost": {}}
    summary = {"models": {"new": block(10, 1000, 500), "old": block(10, 1000, 500)}}
    table = load_price_table()
    tuned = table.resolve(TUNED)
    assert tuned is not None
    old = cost_block(run, summary, table)["models"]["old"]
    assert old["priced_as"] == "gpt-4o-mini (fine-tuned)"
    assert old["per_request"] == pytest.approx((100 * tuned.input_per_1m + 50 * tuned.output_per_1m) / 1e6)  # type: ignore[operator]
