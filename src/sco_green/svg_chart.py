"""Stacked bar charts as inline SVG, written directly.

The report has three bar charts. Drawing them through matplotlib cost about two seconds a night
(importing it, laying out and serialising three figures with every glyph as a path), more than
the queries behind the whole report. These charts need bars, a value axis with round ticks, the
category labels, a legend and a title; written as SVG elements they cost milliseconds, their
text stays text (selectable, searchable, rendered in the page's font), and every bar carries its
series, category and value as a tooltip, so a figure in a chart can be read back exactly.
"""

from __future__ import annotations

import math
from html import escape

# matplotlib's default cycle ("tab10"), which readers of earlier reports know.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
WIDTH = 900
PLOT_HEIGHT = 260
TOP = 34  # the title
LEFT = 78  # the value axis, its tick labels and its label
RIGHT = 16
X_LABELS = 64  # category labels, rotated 45 degrees
LEGEND_ROW = 18
LEGEND_COLUMN = 210
FONT = "font-family:Arial,'Noto Sans CJK SC',sans-serif"


def text_width(text: str, size: float = 11) -> float:
    """About how wide ``text`` renders: a CJK character takes a full em, other characters about half."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.56 for ch in text)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [low, high], 0 included."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def tick_label(value: float, step: float) -> str:
    """A tick's value with as many decimals as the step needs, thousands separated."""
    decimals = next(d for d in range(13) if abs(round(step, d) - step) <= 1e-9 * step)
    return f"{value:,.{decimals}f}"


def _stacks(series: dict[str, dict[str, float]], xs: list[str]) -> list[tuple[str, str, float, float, float]]:
    """(label, x, value, bottom, top) of every non-zero bar segment: positive values stacked up
    from 0, negative ones down, series in label order."""
    up = dict.fromkeys(xs, 0.0)
    down = dict.fromkeys(xs, 0.0)
    segments = []
    for label in sorted(series):
        for x in xs:
            value = series[label].get(x, 0.0)
            if not value:
                continue
            side = up if value > 0 else down
            bottom = side[x]
            side[x] = bottom + value
            segments.append((label, x, value, bottom, bottom + value))
    return segments


def bar_chart(series: dict[str, dict[str, float]], title: str, ylabel: str) -> str:
    """Stacked bars, ``series[label][x] = value``; categories x in sorted order."""
    xs = sorted({x for values in series.values() for x in values})
    labels = sorted(series)
    segments = _stacks(series, xs)
    ticks = nice_ticks(min((s[4] for s in segments), default=0.0), max((s[4] for s in segments), default=0.0))
    step = ticks[1] - ticks[0]
    # Rotated category labels reach down and to the left by their width over the square root of two;
    # long bilingual names get the room they need, and legend columns are as wide as the widest entry.
    reach = max((text_width(x) / math.sqrt(2) for x in xs), default=0.0)
    left = max(LEFT, int(reach - 10))
    x_labels = max(X_LABELS, int(reach + 20))
    plot_width = WIDTH - left - RIGHT
    column_width = max(LEGEND_COLUMN, int(max((text_width(lab) for lab in labels), default=0.0) + 24))
    columns = max(1, plot_width // column_width)
    legend_rows = math.ceil(len(labels) / columns)
    bottom_of_plot = TOP + PLOT_HEIGHT
    height = bottom_of_plot + x_labels + legend_rows * LEGEND_ROW + 8

    def y(value: float) -> float:
        return bottom_of_plot - (value - ticks[0]) / (ticks[-1] - ticks[0]) * PLOT_HEIGHT

    slot = plot_width / max(1, len(xs))
    bar = slot * 0.7
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" style="{FONT};font-size:11px">',
        f"<title>{escape(title)}</title>",
        f'<text x="{WIDTH / 2:.1f}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    for tick in ticks:
        ty = y(tick)
        out.append(
            f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e3e8e5"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick_label(tick, step)}</text>'
        )
    out.append(
        f'<text transform="translate(16 {TOP + PLOT_HEIGHT / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(ylabel)}</text>"
    )
    colour = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    position = {x: left + slot * i + (slot - bar) / 2 for i, x in enumerate(xs)}
    for label, x, value, low, high in segments:
        top, base = sorted((y(low), y(high)))
        out.append(
            f'<rect x="{position[x]:.1f}" y="{top:.1f}" width="{bar:.1f}" height="{base - top:.1f}"'
            f' fill="{colour[label]}"><title>{escape(label)} · {escape(x)}: {value:,.6g}</title></rect>'
        )
    for x in xs:
        cx = position[x] + bar / 2
        out.append(
            f'<text transform="translate({cx:.1f} {bottom_of_plot + 12}) rotate(-45)" text-anchor="end">'
            f"{escape(x)}</text>"
        )
    zero = y(0.0)
    out.append(f'<line x1="{left}" x2="{WIDTH - RIGHT}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#4b6357"/>')
    if not segments:
        middle = f'x="{left + plot_width / 2:.1f}" y="{TOP + PLOT_HEIGHT / 2:.1f}"'
        out.append(f'<text {middle} text-anchor="middle">无数据 no data</text>')
    for i, label in enumerate(labels):
        lx = left + (i % columns) * column_width
        ly = bottom_of_plot + x_labels + (i // columns) * LEGEND_ROW
        out.append(
            f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colour[label]}"/>'
            f'<text x="{lx + 14}" y="{ly + 9}">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
