"""Inline SVG charts for the HTML reports, drawn here so the reports stay one offline file.

Four shapes cover every picture: dots with interval whiskers, a heat-map grid, stacked
histograms sharing their bins, and lines over runs. They are small enough that a charting
library (and the script or CDN it would bring into a page whose Content-Security-Policy
allows neither) is not worth it. Every label is escaped: model names and tags come from
suite files. Each mark carries a <title>, which browsers show as a tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from markupsafe import Markup, escape

Format = Callable[[float], str]

BASELINE_COLOUR = "#8c959f"
PALETTE = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#0550ae", "#6e7781")
LABEL_WIDTH = 120
ROW = 22


def model_colours(models: Sequence[str], baseline: str | None) -> dict[str, str]:
    """The baseline in grey, every other model its own colour, the same in every chart of a report."""
    colours: dict[str, str] = {}
    others = iter(PALETTE * (len(models) // len(PALETTE) + 1))
    for name in models:
        colours[name] = BASELINE_COLOUR if name == baseline else next(others)
    return colours


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _svg(width: float, height: float, label: str, body: list[str], css_class: str) -> Markup:
    return Markup(
        f'<svg class="chart {css_class}" viewBox="0 0 {_n(width)} {_n(height)}" width="100%" '
        f'style="max-width:{_n(width)}px" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{cls}>{escape(text)}</text>'


def _clip(label: str, limit: int = 18) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass(frozen=True)
class Dot:
    """One row of a dot-and-whisker chart."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    colour: str = PALETTE[0]
    note: str = ""  # tooltip detail (n, interval kind)


def dot_whisker(rows: Sequence[Dot], lo: float, hi: float, fmt: Format, title: str,
                reference: float | None = None, width: float = 420) -> Markup:
    """Rows of value dots with interval whiskers on a shared axis from `lo` to `hi`."""
    plot_left, plot_right = LABEL_WIDTH, width - 56
    span = (hi - lo) or 1.0

    def x(value: float) -> float:
        return plot_left + (min(max(value, lo), hi) - lo) / span * (plot_right - plot_left)

    height = 18 + ROW * len(rows) + 18
    body = []
    for i in range(5):  # gridlines and axis labels at 0, 25, 50, 75, 100 % of the axis
        value = lo + span * i / 4
        body.append(f'<line x1="{_n(x(value))}" x2="{_n(x(value))}" y1="12" y2="{_n(height - 16)}" class="grid"/>')
        body.append(_text(x(value), height - 4, fmt(value), "middle"))
    if reference is not None:
        body.append(f'<line x1="{_n(x(reference))}" x2="{_n(x(reference))}" y1="8" y2="{_n(height - 16)}" class="ref"/>')
    for i, row in enumerate(rows):
        y = 18 + ROW * i + ROW / 2
        body.append(_text(plot_left - 8, y + 4, _clip(row.label), "end", "name"))
        if row.value is None:
            body.append(_text(plot_left + 4, y + 4, "no value", css="muted"))
            continue
        tip = f"{row.label}: {fmt(row.value)}"
        if row.low is not None and row.high is not None:
            tip += f" ({fmt(row.low)} – {fmt(row.high)})"
            body.append(f'<line x1="{_n(x(row.low))}" x2="{_n(x(row.high))}" y1="{_n(y)}" y2="{_n(y)}" '
                        f'stroke="{row.colour}" stroke-width="2"/>')
            for end in (row.low, row.high):
                body.append(f'<line x1="{_n(x(end))}" x2="{_n(x(end))}" y1="{_n(y - 5)}" y2="{_n(y + 5)}" '
                            f'stroke="{row.colour}" stroke-width="2"/>')
        if row.note:
            tip += f" · {row.note}"
        body.append(f'<circle cx="{_n(x(row.value))}" cy="{_n(y)}" r="5" fill="{row.colour}">'
                    f"<title>{escape(tip)}</title></circle>")
        body.append(_text(plot_right + 6, y + 4, fmt(row.value), css="value"))
    return _svg(width, height, title, body, "dots")


@dataclass(frozen=True)
class Cell:
    value: float | None  # 0..1 colours the cell; None leaves it blank
    text: str
    note: str = ""


def _shade(value: float) -> str:
    """Red (0) through yellow (0.5) to green (1), light enough for dark text."""
    stops = ((0.0, (248, 208, 204)), (0.5, (255, 238, 186)), (1.0, (190, 234, 200)))
    value = min(max(value, 0.0), 1.0)
    for (a, ca), (b, cb) in pairwise(stops):
        if value <= b:
            t = (value - a) / (b - a)
            r, g, bl = (round(ca[k] + (cb[k] - ca[k]) * t) for k in range(3))
            return f"#{r:02x}{g:02x}{bl:02x}"
    return "#beeac8"


def heatmap(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[Cell]], title: str) -> Markup:
    """A grid of shaded cells: one row per `rows` entry, one column per `columns` entry."""
    cell_w, cell_h = 78, 24
    top = 22
    width = LABEL_WIDTH + cell_w * len(columns) + 4
    height = top + cell_h * len(rows) + 4
    body = [_text(LABEL_WIDTH + cell_w * j + cell_w / 2, 15, _clip(name, 12), "middle", "name")
            for j, name in enumerate(columns)]
    for i, name in enumerate(rows):
        y = top + cell_h * i
        body.append(_text(LABEL_WIDTH - 8, y + cell_h / 2 + 4, _clip(name), "end", "name"))
        for j, cell in enumerate(cells[i]):
            x = LABEL_WIDTH + cell_w * j
            fill = _shade(cell.value) if cell.value is not None else "#f6f8fa"
            tip = f"{name} · {columns[j]}: {cell.text}" + (f" · {cell.note}" if cell.note else "")
            body.append(f'<rect x="{_n(x + 1)}" y="{_n(y + 1)}" width="{cell_w - 2}" height="{cell_h - 2}" rx="3" '
                        f'fill="{fill}"><title>{escape(tip)}</title></rect>')
            body.append(_text(x + cell_w / 2, y + cell_h / 2 + 4, cell.text, "middle", "cell"))
    return _svg(width, height, title, body, "heat")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float]
    colour: str = PALETTE[0]


def bin_counts(values: Sequence[float], lo: float, hi: float, bins: int) -> list[int]:
    """Counts per equal-width bin over [lo, hi]; the top edge belongs to the last bin, outliers to the ends."""
    counts = [0] * bins
    width = (hi - lo) / bins if hi > lo else 1.0
    for value in values:
        index = int((value - lo) / width) if hi > lo else 0
        counts[min(max(index, 0), bins - 1)] += 1
    return counts


def histograms(series: Sequence[Series], lo: float, hi: float, bins: int, fmt: Format, title: str,
               width: float = 420, ticks: Sequence[float] | None = None) -> Markup:
    """One small histogram per series, stacked, sharing bins and the count scale; the axis is
    labelled at `ticks` (default: both ends and the middle)."""
    plot_left, plot_right = LABEL_WIDTH, width - 8
    band = 34
    counted = [bin_counts(s.values, lo, hi, bins) for s in series]
    peak = max((max(c) for c in counted if c), default=0) or 1
    bar_w = (plot_right - plot_left) / bins
    height = 8 + band * len(series) + 18
    body = []
    for i, (entry, counts) in enumerate(zip(series, counted, strict=True)):
        base_y = 8 + band * (i + 1) - 4
        body.append(_text(plot_left - 8, base_y - 8, _clip(entry.label), "end", "name"))
        body.append(f'<line x1="{plot_left}" x2="{_n(plot_right)}" y1="{_n(base_y)}" y2="{_n(base_y)}" class="grid"/>')
        for k, count in enumerate(counts):
            if not count:
                continue
            h = (band - 8) * count / peak
            left, right = lo + (hi - lo) * k / bins, lo + (hi - lo) * (k + 1) / bins
            tip = f"{entry.label}: {count} in {fmt(left)} – {fmt(right)}"
            body.append(f'<rect x="{_n(plot_left + bar_w * k + 1)}" y="{_n(base_y - h)}" width="{_n(max(bar_w - 2, 1))}" '
                        f'height="{_n(h)}" fill="{entry.colour}"><title>{escape(tip)}</title></rect>')
    span = (hi - lo) or 1.0
    marks = list(ticks) if ticks is not None else [lo, lo + span / 2, hi]
    for value in marks:
        x = plot_left + (value - lo) / span * (plot_right - plot_left)
        anchor = "start" if x <= plot_left + 1 else ("end" if x >= plot_right - 1 else "middle")
        body.append(_text(x, height - 4, fmt(value), anchor))
    return _svg(width, height, title, body, "hist")


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float | None]  # one per x position; None: no value in that run
    colour: str = PALETTE[0]
    lows: Sequence[float | None] = field(default_factory=tuple)
    highs: Sequence[float | None] = field(default_factory=tuple)


def line_chart(xs: Sequence[str], lines: Sequence[Line], lo: float, hi: float, fmt: Format, title: str,
               flagged: Sequence[bool] = (), width: float = 520) -> Markup:
    """Values over runs (oldest left), one polyline per series, with whiskers where bounds exist;
    `flagged` x positions (runs whose gates failed) get a red mark under the axis."""
    left, right, top, bottom = 52, width - 12, 10, 150
    span = (hi - lo) or 1.0
    step = (right - left) / max(len(xs) - 1, 1)

    def px(i: int) -> float:
        return left + step * i if len(xs) > 1 else (left + right) / 2

    def py(value: float) -> float:
        return bottom - (min(max(value, lo), hi) - lo) / span * (bottom - top)

    legend_rows = (len(lines) + 2) // 3
    height = bottom + 30 + 16 * legend_rows
    body = []
    for i in range(5):
        value = lo + span * i / 4
        body.append(f'<line x1="{left}" x2="{_n(right)}" y1="{_n(py(value))}" y2="{_n(py(value))}" class="grid"/>')
        body.append(_text(left - 6, py(value) + 4, fmt(value), "end"))
    for i, failed in enumerate(flagged):
        if failed:
            body.append(f'<rect x="{_n(px(i) - 4)}" y="{bottom + 4}" width="8" height="4" class="flag">'
                        f"<title>{escape(xs[i])}: a gate failed</title></rect>")
    for line in lines:
        points = [(px(i), py(v)) for i, v in enumerate(line.values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{_n(a)},{_n(b)}" for a, b in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{line.colour}" stroke-width="2"/>')
        for i, point in enumerate(line.values):
            if point is None:
                continue
            value = point
            low = line.lows[i] if i < len(line.lows) else None
            high = line.highs[i] if i < len(line.highs) else None
            if low is not None and high is not None:
                body.append(f'<line x1="{_n(px(i))}" x2="{_n(px(i))}" y1="{_n(py(high))}" y2="{_n(py(low))}" '
                            f'stroke="{line.colour}" stroke-opacity=".45" stroke-width="4"/>')
            body.append(f'<circle cx="{_n(px(i))}" cy="{_n(py(value))}" r="3.5" fill="{line.colour}">'
                        f"<title>{escape(f'{line.label} · {xs[i]}: {fmt(value)}')}</title></circle>")
    if xs:
        body.append(_text(left, bottom + 20, xs[0], "start"))
        if len(xs) > 1:
            body.append(_text(right, bottom + 20, xs[-1], "end"))
    for k, line in enumerate(lines):
        x, y = left + (k % 3) * ((right - left) / 3), bottom + 38 + 16 * (k // 3)
        body.append(f'<rect x="{_n(x)}" y="{_n(y - 8)}" width="10" height="10" fill="{line.colour}"/>')
        body.append(_text(x + 14, y + 1, _clip(line.label, 24), css="name"))
    return _svg(width, height, title, body, "lines")
