"""Token prices per model: inference (base and fine-tuned) and training, from a packaged table.

    table = load_price_table()                       # packaged prices, or $HARNESS_PRICES / a file
    table.inference_cost("ft:gpt-4o-mini-2024-07-18:acme:support:abc", 1200, 300)
    table.training_cost("gpt-4o-mini", tokens=500_000, epochs=3)

A fine-tuned id prices at its base's `fine_tuned_*` rates; a dated snapshot at the longest
entry it starts with. Requests sent through the Batch API cost half those rates, unless the
entry gives its own `batch:` prices. A user file of the same shape replaces the packaged
entries it names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import UsageError

PRICES_ENV = "HARNESS_PRICES"
PER_TOKENS = 1_000_000
BATCH_DISCOUNT = 0.5  # the Batch API's price, as a share of the online one, where a model gives none


class BatchPrice(BaseModel):
    """Batch API prices of a model, where they are not half the online ones."""

    model_config = ConfigDict(extra="forbid")

    input: float | None = Field(default=None, ge=0, description="Input tokens through the Batch API, base model.")
    output: float | None = Field(default=None, ge=0, description="Output tokens through the Batch API, base model.")
    fine_tuned_input: float | None = Field(default=None, ge=0, description="Input tokens through the Batch API, a fine-tune.")
    fine_tuned_output: float | None = Field(default=None, ge=0, description="Output tokens through the Batch API, a fine-tune.")


class ModelPrice(BaseModel):
    """One model's prices in the table's currency per 1M tokens; a missing price is unknown."""

    model_config = ConfigDict(extra="forbid")

    input: float | None = Field(default=None, ge=0, description="Input (prompt) tokens, base model.")
    output: float | None = Field(default=None, ge=0, description="Output (completion) tokens, base model.")
    cached_input: float | None = Field(default=None, ge=0, description="Cached input tokens, base model.")
    fine_tuned_input: float | None = Field(default=None, ge=0, description="Input tokens on a fine-tune of this model.")
    fine_tuned_output: float | None = Field(default=None, ge=0, description="Output tokens on a fine-tune of this model.")
    training: float | None = Field(default=None, ge=0, description="Training tokens (tokens in the file x epochs).")
    batch: BatchPrice | None = Field(default=None, description="Batch API prices (default: half of each online price).")


class PriceTable(BaseModel):
    """The whole table as stored in YAML."""

    model_config = ConfigDict(extra="forbid")

    as_of: str | None = Field(default=None, description="When the prices were checked.")
    currency: str = Field(default="USD", description="Currency of every price.")
    models: dict[str, ModelPrice] = Field(default_factory=dict, description="Model name -> prices.")

    def resolve(self, model_id: str) -> Quote | None:
        """Prices that apply to `model_id` (ft: ids use their base's fine-tuned rates), or None when unknown."""
        name = model_id.strip()
        if name.startswith("openai:"):
            name = name[len("openai:") :]
        fine_tuned = name.startswith("ft:")
        if fine_tuned:
            name = name.split(":")[1] if name.count(":") >= 1 else ""
        entry = self._entry_for(name)
        if entry is None:
            return None
        price = self.models[entry]
        batch = price.batch or BatchPrice()
        if fine_tuned:
            return Quote(entry, True, price.fine_tuned_input, price.fine_tuned_output, price.training, self.currency,
                         batch.fine_tuned_input, batch.fine_tuned_output)
        return Quote(entry, False, price.input, price.output, price.training, self.currency, batch.input, batch.output)

    def _entry_for(self, name: str) -> str | None:
        if name in self.models:
            return name
        # Dated snapshots and variants: gpt-4o-mini-2024-07-18 -> gpt-4o-mini (not gpt-4o).
        candidates = [key for key in self.models if name.startswith(key + "-")]
        return max(candidates, key=len) if candidates else None

    def inference_cost(self, model_id: str, input_tokens: float, output_tokens: float) -> float | None:
        """Cost of serving these tokens on `model_id`, or None when a needed price is unknown."""
        quote = self.resolve(model_id)
        return quote.inference_cost(input_tokens, output_tokens) if quote else None

    def training_cost(self, model_id: str, tokens: float, epochs: float = 1) -> float | None:
        """Cost of fine-tuning `model_id` (or the base of an ft: id) on `tokens` for `epochs`."""
        quote = self.resolve(model_id)
        return quote.training_cost(tokens, epochs) if quote else None


@dataclass(frozen=True)
class Quote:
    """The rates that apply to one model id."""

    entry: str  # the table entry the id resolved to
    fine_tuned: bool
    input_per_1m: float | None
    output_per_1m: float | None
    training_per_1m: float | None
    currency: str
    batch_input: float | None = None  # the table's own Batch API prices, when it gives them
    batch_output: float | None = None

    @property
    def batch_input_per_1m(self) -> float | None:
        return batch_rate(self.batch_input, self.input_per_1m)

    @property
    def batch_output_per_1m(self) -> float | None:
        return batch_rate(self.batch_output, self.output_per_1m)

    def inference_cost(self, input_tokens: float, output_tokens: float) -> float | None:
        if self.input_per_1m is None or self.output_per_1m is None:
            return None
        return (input_tokens * self.input_per_1m + output_tokens * self.output_per_1m) / PER_TOKENS

    def training_cost(self, tokens: float, epochs: float = 1) -> float | None:
        if self.training_per_1m is None:
            return None
        return tokens * epochs * self.training_per_1m / PER_TOKENS


def batch_rate(own: float | None, online: float | None) -> float | None:
    """A Batch API rate: the one given, else half the online rate."""
    if own is not None:
        return own
    return online * BATCH_DISCOUNT if online is not None else None


def _read_table(text: str, shown: str) -> PriceTable:
    try:
        data = yaml.safe_load(text)
        return PriceTable.model_validate(data if data is not None else {})
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise UsageError(f"{shown}{where}: not valid YAML: {problem}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise UsageError(f"{shown}: {where}: {first['msg']}") from None


def packaged_price_table() -> PriceTable:
    """The prices shipped with harness."""
    text = resources.files("harness").joinpath("pricing.yaml").read_text(encoding="utf-8")
    return _read_table(text, "harness/pricing.yaml")


def load_price_table(path: str | Path | None = None) -> PriceTable:
    """The packaged table, with the entries of `path` (or $HARNESS_PRICES) replacing those they name."""
    table = packaged_price_table()
    override = path if path is not None else os.environ.get(PRICES_ENV) or None
    if override is None:
        return table
    file = Path(override)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"price file '{file}' not found") from None
    except OSError as exc:
        raise UsageError(f"cannot read price file '{file}': {exc.strerror}") from None
    user = _read_table(text, str(file))
    return PriceTable(
        as_of=user.as_of or table.as_of,
        currency=user.currency if "currency" in user.model_fields_set else table.currency,
        models={**table.models, **user.models},
    )
