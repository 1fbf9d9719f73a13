"""The inline SVG charts: positions computed by hand, escaping, binning."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from harness.report.charts import (
    BASELINE_COLOUR,
    PALETTE,
    Cell,
    Dot,
    Line,
    Series,
    bin_counts,
    dot_whisker,
    heatmap,
    histograms,
    line_chart,
    model_colours,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # well-formed XML, or this raises


def test_dots_sit_at_their_values_with_whiskers_at_the_interval() -> None:
    svg = parse(dot_whisker([Dot("tuned", 0.5, 0.25, 0.75), Dot("base", None)], 0, 1, str, "t", width=420))
    # the plot runs from x=120 (labels) to x=420-56=364: 0.5 -> 242, 0.25 -> 181, 0.75 -> 303
    [circle] = svg.iter(f"{SVG}circle")
    assert float(circle.get("cx", "")) == pytest.approx(242) and circle.get("fill") == PALETTE[0]
    lines = [(float(line.get("x1", "")), float(line.get("x2", ""))) for line in svg.iter(f"{SVG}line")
             if line.get("stroke") == PALETTE[0]]
    assert (181.0, 303.0) in lines  # the whisker
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "no value" in texts and "tuned" in texts and "base" in texts


def test_values_outside_the_axis_are_clamped_and_a_reference_line_drawn() -> None:
    svg = parse(dot_whisker([Dot("m", 1.7)], 0, 1, str, "t", reference=0.5))
    [circle] = svg.iter(f"{SVG}circle")
    assert float(circle.get("cx", "")) == pytest.approx(364)
    assert any(line.get("class") == "ref" for line in svg.iter(f"{SVG}line"))


def test_labels_are_escaped() -> None:
    markup = str(dot_whisker([Dot("<script>alert(1)</script>", 0.5)], 0, 1, str, 'a "title"'))
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    parse(markup)
    markup = str(heatmap(["<b>tag</b>"], ["m&m"], [[Cell(0.5, "50%", "<i>")]], "h"))
    assert "<b>" not in markup and "<i>" not in markup and "m&amp;m" in markup
    parse(markup)


def test_bins_include_the_top_edge_and_clamp_outliers() -> None:
    assert bin_counts([0.0, 0.05, 0.1, 0.55, 1.0, 1.5, -0.2], 0, 1, 10) == [3, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert bin_counts([3.0, 3.0], 3, 3, 4) == [2, 0, 0, 0]  # a zero-width range: everything in the first bin


def test_histogram_bars_share_the_count_scale() -> None:
    svg = parse(histograms([Series("a", [0.1, 0.1, 0.1, 0.9]), Series("b", [0.9])], 0, 1, 2, str, "h"))
    heights = sorted(float(rect.get("height", "")) for rect in svg.iter(f"{SVG}rect"))
    assert heights == pytest.approx([26 / 3, 26 / 3, 26], abs=0.05)  # counts 1, 1, peak 3 over 26 px (0.1 px grid)


def test_heatmap_shades_from_red_to_green() -> None:
    svg = parse(heatmap(["t"], ["lo", "hi", "none"], [[Cell(0.0, "0%"), Cell(1.0, "100%"), Cell(None, "-")]], "h"))
    fills = [rect.get("fill") for rect in svg.iter(f"{SVG}rect")]
    assert fills == ["#f8d0cc", "#beeac8", "#f6f8fa"]


def test_lines_skip_missing_runs_and_flag_failed_gates() -> None:
    svg = parse(line_chart(["r1", "r2", "r3"], [Line("m", [0.2, None, 0.8], lows=[0.1, None, 0.7],
                                                      highs=[0.3, None, 0.9])], 0, 1, str, "l", flagged=[False, True, False]))
    [polyline] = svg.iter(f"{SVG}polyline")
    assert len(polyline.get("points", "").split()) == 2
    assert len(list(svg.iter(f"{SVG}circle"))) == 2
    assert [r.get("class") for r in svg.iter(f"{SVG}rect")].count("flag") == 1
    titles = [t.text for t in svg.iter(f"{SVG}title")]
    assert "r2: a gate failed" in titles and any(re.match(r"m · r3: 0\.8", t or "") for t in titles)


def test_the_baseline_is_grey_and_others_differ() -> None:
    colours = model_colours(["tuned", "base", "other"], "base")
    assert colours["base"] == BASELINE_COLOUR and colours["tuned"] != colours["other"]
    assert BASELINE_COLOUR not in (colours["tuned"], colours["other"])
