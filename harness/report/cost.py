"""The `cost` block of summary.json: what each model costs per request, per 1,000 requests and per
month, and when a fine-tune's training cost is paid back by cheaper requests than the baseline's.

Prices come from the shared price table (`harness.pricing`: built-in OpenAI prices, fine-tuned
rates for `ft:` ids, overridable with $HARNESS_PRICES) and from the suite's `cost.prices`, which
win. Token counts are this run's means per answered request. Everything is read from run.json
(the suite's `cost:` settings as the run recorded them) and summary.json.

Answers that came through the Batch API cost the batch rate (half the online price unless the
table or the suite gives one): the cost of this run counts them so and says how many there
were; per request, per 1,000 and monthly figures project online serving, at the online rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.gates.figures import RunFigures
from harness.pricing import PriceTable, batch_rate, load_price_table

PER_TOKENS = 1_000_000
# Models that run on this machine (or replay saved answers): no price list applies, so no
# "no price" note either; a suite gives their compute cost as token prices in `cost.prices`.
LOCAL_KINDS = ("hf", "predictions", "run")
LOCAL_MISSING = "runs locally: no price (give its compute cost as cost.prices in the suite)"


def is_local(entry: dict[str, Any]) -> bool:
    kind = entry.get("kind") or str(entry.get("spec") or "").partition(":")[0]
    return kind in LOCAL_KINDS


def _mean_tokens(block: dict[str, Any]) -> tuple[float, float] | None:
    answered = int(block.get("answered") or 0)
    prompt, completion = int(block.get("prompt_tokens") or 0), int(block.get("completion_tokens") or 0)
    if not answered or not (prompt or completion):
        return None
    return prompt / answered, completion / answered


@dataclass(frozen=True)
class Rates:
    """Per 1M tokens, online and through the Batch API, and where they come from."""

    input: float
    output: float
    priced_as: str
    batch_input: float
    batch_output: float
    batch_priced_as: str


def _rates(name: str, entry: dict[str, Any], settings: dict[str, Any], table: PriceTable) -> Rates | str:
    """The model's rates, or why there is no price."""
    override = (settings.get("prices") or {}).get(name) or (settings.get("prices") or {}).get(entry.get("spec"))
    if override:
        online = float(override["input"]), float(override["output"])
        batch = override.get("batch")
        if batch:
            return Rates(*online, "the suite's cost.prices", float(batch["input"]), float(batch["output"]),
                         "the suite's cost.prices batch price")
        return Rates(*online, "the suite's cost.prices", online[0] / 2, online[1] / 2, "half the suite's cost.prices")
    # A `run:` model is priced as the model it recorded: its tokens are that model's.
    spec = str((entry.get("recorded") or {}).get("spec") or entry.get("spec") or name)
    quote = table.resolve(spec)
    if quote is None or quote.input_per_1m is None or quote.output_per_1m is None:
        return f"no price for '{spec}': add it under cost.prices in the suite"
    label = f"{quote.entry} (fine-tuned)" if quote.fine_tuned else quote.entry
    batch_input = batch_rate(quote.batch_input, quote.input_per_1m)
    batch_output = batch_rate(quote.batch_output, quote.output_per_1m)
    assert batch_input is not None and batch_output is not None
    own = quote.batch_input is not None or quote.batch_output is not None
    return Rates(quote.input_per_1m, quote.output_per_1m, label, batch_input, batch_output,
                 f"{label} batch price" if own else f"half of {label}")


def _batched(block: dict[str, Any], batch: dict[str, Any], rates: Rates) -> dict[str, Any]:
    """This run's cost with the batched answers at the batch rate, the others at the online rate."""
    batch_prompt, batch_completion = int(batch.get("prompt_tokens") or 0), int(batch.get("completion_tokens") or 0)
    online_prompt = int(block.get("prompt_tokens") or 0) - batch_prompt
    online_completion = int(block.get("completion_tokens") or 0) - batch_completion
    run = (online_prompt * rates.input + online_completion * rates.output
           + batch_prompt * rates.batch_input + batch_completion * rates.batch_output) / PER_TOKENS
    return {"run": run, "batched": int(batch.get("answered") or 0), "batch_priced_as": rates.batch_priced_as,
            "batch_input_per_1m": rates.batch_input, "batch_output_per_1m": rates.batch_output}


def _training_cost(settings: dict[str, Any], candidate: dict[str, Any] | None, table: PriceTable) -> float | None:
    if settings.get("training_cost") is not None:
        return float(settings["training_cost"])
    tokens = settings.get("training_tokens")
    if tokens is None or candidate is None:
        return None
    return table.training_cost(str(candidate.get("spec") or ""), float(tokens), float(settings.get("epochs") or 1))


def _money(value: float, currency: str) -> str:
    return f"{value:,.2f} {currency}" if value >= 1 else f"{value:.4f} {currency}"


def break_even(candidate: str, baseline: str, models: dict[str, Any], training: float | None, monthly: int | None,
               currency: str) -> dict[str, Any] | None:
    """When the candidate's cheaper requests repay its training cost, against the baseline."""
    mine, theirs = models.get(candidate) or {}, models.get(baseline) or {}
    if mine.get("per_request") is None or theirs.get("per_request") is None:
        return None
    saving = theirs["per_request"] - mine["per_request"]
    result: dict[str, Any] = {"candidate": candidate, "baseline": baseline, "training_cost": training,
                              "saving_per_request": saving, "requests": None, "months": None}
    if saving <= 0:
        result["text"] = (f"{candidate} costs {_money(-saving * 1000, currency)} more per 1,000 requests than {baseline}: "
                          "no break-even on inference cost")
        return result
    if training is None:
        result["text"] = (f"{candidate} saves {_money(saving * 1000, currency)} per 1,000 requests against {baseline}; "
                          "set cost.training_cost (or training_tokens) for the break-even")
        return result
    requests = training / saving
    result["requests"] = requests
    text = f"{candidate} repays its {_money(training, currency)} training after {requests:,.0f} requests"
    if monthly:
        result["months"] = requests / monthly
        text += f" ({requests / monthly:.1f} months at {monthly:,} requests a month)"
    result["text"] = text + f" against {baseline}"
    return result


def cost_block(run: dict[str, Any], summary: dict[str, Any], table: PriceTable | None = None) -> dict[str, Any]:
    """The `cost` block for summary.json."""
    settings: dict[str, Any] = dict(run.get("cost") or {})
    table = table or load_price_table()
    currency = table.currency
    monthly = settings.get("monthly_requests")
    entries = {m["name"]: m for m in run.get("models", [])}
    models: dict[str, Any] = {}
    notes: list[str] = []
    for name, block in (summary.get("models") or {}).items():
        tokens = _mean_tokens(block)
        if tokens is None:
            models[name] = {"missing": "no token counts (saved predictions carry none)"}
            continue
        entry = entries.get(name) or {"spec": name}
        rates = _rates(name, entry, settings, table)
        if isinstance(rates, str):
            local = is_local(entry)
            models[name] = {"missing": LOCAL_MISSING if local else rates, "local": local,
                            "mean_prompt_tokens": tokens[0], "mean_completion_tokens": tokens[1]}
            if not local:
                notes.append(rates)
            continue
        per_request = (tokens[0] * rates.input + tokens[1] * rates.output) / PER_TOKENS
        answered = int(block.get("answered") or 0)
        models[name] = {
            "priced_as": rates.priced_as,
            "input_per_1m": rates.input,
            "output_per_1m": rates.output,
            "mean_prompt_tokens": tokens[0],
            "mean_completion_tokens": tokens[1],
            "per_request": per_request,
            "run": per_request * answered,
            "per_1k_requests": per_request * 1000,
            "monthly": per_request * monthly if monthly else None,
        }
        batch = block.get("batch") or {}
        batched = int(batch.get("answered") or 0)
        if batched:
            models[name].update(_batched(block, batch, rates))
            notes.append(f"{name}: {batched:,} of {answered:,} answers came through the Batch API and are priced at "
                         f"its rate ({rates.batch_priced_as}) in this run's cost; per-request and monthly figures are "
                         "online prices")
    baseline = RunFigures(summary, run).baseline
    result: dict[str, Any] = {"currency": currency, "price_table_as_of": table.as_of, "monthly_requests": monthly,
                              "models": models, "break_even": None, "notes": notes}
    if baseline in models:
        candidates = [name for name in models if name != baseline]
        if candidates:
            candidate = candidates[0]
            training = _training_cost(settings, entries.get(candidate), table)
            result["break_even"] = break_even(candidate, baseline, models, training, monthly, currency)
    return result
