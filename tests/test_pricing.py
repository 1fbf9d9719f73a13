from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.pricing import load_price_table, packaged_price_table


def test_base_and_fine_tuned_rates() -> None:
    table = packaged_price_table()
    base = table.resolve("gpt-4o-mini")
    assert base is not None and not base.fine_tuned
    assert (base.input_per_1m, base.output_per_1m, base.training_per_1m) == (0.15, 0.60, 3.00)
    tuned = table.resolve("ft:gpt-4o-mini-2024-07-18:acme:support:abc123")
    assert tuned is not None and tuned.fine_tuned and tuned.entry == "gpt-4o-mini"
    assert (tuned.input_per_1m, tuned.output_per_1m) == (0.30, 1.20)
    assert table.resolve("openai:ft:gpt-4o-2024-08-06:acme::x").entry == "gpt-4o"  # type: ignore[union-attr]


def test_snapshots_resolve_to_the_longest_matching_entry() -> None:
    table = packaged_price_table()
    assert table.resolve("gpt-4o-mini-2024-07-18").entry == "gpt-4o-mini"  # type: ignore[union-attr]
    assert table.resolve("gpt-4o-2024-08-06").entry == "gpt-4o"  # type: ignore[union-attr]
    assert table.resolve("gpt-4.1-nano-2025-04-14").entry == "gpt-4.1-nano"  # type: ignore[union-attr]
    assert table.resolve("gpt-4-turbo-2024-04-09").entry == "gpt-4-turbo"  # type: ignore[union-attr]
    assert table.resolve("gpt-4oz") is None
    assert table.resolve("llama-3-8b") is None


def test_costs_by_hand() -> None:
    table = packaged_price_table()
    # The seeds' example: 0.5M tokens on gpt-4o-mini at $3/1M for 1 epoch is $1.50.
    assert table.training_cost("gpt-4o-mini", 500_000) == pytest.approx(1.50)
    assert table.training_cost("gpt-4o-mini-2024-07-18", 500_000, epochs=3) == pytest.approx(4.50)
    # 1,200 input and 300 output tokens on a fine-tuned gpt-4o-mini: (1200*0.30 + 300*1.20) / 1e6.
    assert table.inference_cost("ft:gpt-4o-mini-2024-07-18:acme:s:1", 1200, 300) == pytest.approx(0.00072)
    assert table.training_cost("gpt-5", 1000) is None  # no training price
    assert table.inference_cost("unknown-model", 1, 1) is None


def test_user_file_replaces_the_entries_it_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  gpt-4o-mini: {input: 1, output: 2, training: 10}\n  my-model: {input: 0.5, output: 0.5}\n")
    table = load_price_table(path)
    assert table.training_cost("gpt-4o-mini", 1_000_000) == pytest.approx(10)
    assert table.resolve("my-model-v2").entry == "my-model"  # type: ignore[union-attr]
    assert table.resolve("gpt-4o") is not None  # untouched entries stay
    monkeypatch.setenv("HARNESS_PRICES", str(path))
    assert load_price_table().training_cost("gpt-4o-mini", 1_000_000) == pytest.approx(10)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("models: [1, 2]", "models"),
        ("models:\n  x: {inptu: 1}", "inptu"),
        ("models:\n  x: {input: -1}", "greater than or equal"),
        ("models: {x: [", "not valid YAML"),
    ],
)
def test_bad_price_files_fail_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(content)
    with pytest.raises(UsageError, match=message) as info:
        load_price_table(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_price_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_price_table(tmp_path / "nope.yaml")
