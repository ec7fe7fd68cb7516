"""Server-rendered SVG charts for the manager dashboard: no JavaScript, no chart library.

Pure functions (no Django) returning SVG markup; every text is XML-escaped here, so callers may mark
the result safe. Colours come from a fixed palette so an annotator keeps their colour across charts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 16, 16, 56


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def nice_max(value: float) -> float:
    """A round upper bound ≥ value for an axis (1, 2, 2.5, 5 × 10^k)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * 10**exponent
        if bound >= value:
            return float(bound)
    return float(10 ** (exponent + 1))


def _frame(title: str, body: list[str], legend: Sequence[str]) -> str:
    height = HEIGHT + 18 * math.ceil(len(legend) / 4)
    items = []
    for i, name in enumerate(legend):
        x = MARGIN_LEFT + (i % 4) * 150
        y = HEIGHT + 4 + 18 * (i // 4)
        items.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{color(i)}"/>'
            f'<text x="{x + 14}" y="{y + 9}" class="legend">{escape(str(name))}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" class="chart" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>' + "".join(body + items) + "</svg>"
    )


def _y_axis(top: float, label: str, fmt: str = "{:g}") -> list[str]:
    parts = []
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - MARGIN_BOTTOM - plot_h * i / 4
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{fmt.format(value)}</text>'
        )
    parts.append(
        f'<text x="12" y="{MARGIN_TOP + plot_h / 2:.1f}" transform="rotate(-90 12 {MARGIN_TOP + plot_h / 2:.1f})" '
        f'text-anchor="middle" class="axis-label">{escape(label)}</text>'
    )
    return parts


def stacked_bars(title: str, categories: Sequence[str], series: dict[str, Sequence[float]], y_label: str) -> str:
    """One bar per category (e.g. a day), stacked by series (e.g. annotators)."""
    if not categories:
        return _frame(title, ['<text x="50%" y="50%" text-anchor="middle" class="tick">no data yet</text>'], [])
    totals = [sum(values[i] for values in series.values()) for i in range(len(categories))]
    top = nice_max(max(totals))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / len(categories)
    bar = max(min(slot * 0.7, 40), 1)
    body = _y_axis(top, y_label)
    every = max(1, math.ceil(len(categories) / 12))
    for i, category in enumerate(categories):
        x = MARGIN_LEFT + slot * i + (slot - bar) / 2
        base = HEIGHT - MARGIN_BOTTOM
        for s, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / top
            if h <= 0:
                continue
            base -= h
            body.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{color(s)}">'
                f"<title>{escape(str(category))} · {escape(str(name))}: {values[i]:g}</title></rect>"
            )
        if i % every == 0:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 14}" text-anchor="middle" '
                f'class="tick">{escape(str(category))}</text>'
            )
    return _frame(title, body, list(series))


def line_chart(
    title: str, series: dict[str, Sequence[tuple[float, float]]], x_label: str, y_label: str, y_max: float | None = None
) -> str:
    """Lines with points, one per series of (x, y); y from 0 to y_max (or a round bound of the data)."""
    points = [p for values in series.values() for p in values]
    if not points:
        return _frame(title, ['<text x="50%" y="50%" text-anchor="middle" class="tick">no data yet</text>'], [])
    x_lo, x_hi = min(p[0] for p in points), max(p[0] for p in points)
    x_hi = x_hi if x_hi > x_lo else x_lo + 1
    top = y_max if y_max is not None else nice_max(max(p[1] for p in points))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return MARGIN_LEFT + plot_w * (x - x_lo) / (x_hi - x_lo), HEIGHT - MARGIN_BOTTOM - plot_h * y / top

    body = _y_axis(top, y_label)
    for x_value in sorted({round(x_lo + (x_hi - x_lo) * i / 4) for i in range(5)}):
        x, _ = at(x_value, 0)
        y = HEIGHT - MARGIN_BOTTOM + 14
        body.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle" class="tick">{x_value:.0f}</text>')
    body.append(
        f'<text x="{MARGIN_LEFT + plot_w / 2:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 32}" text-anchor="middle" '
        f'class="axis-label">{escape(x_label)}</text>'
    )
    for s, (name, values) in enumerate(series.items()):
        coords = [at(x, y) for x, y in sorted(values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{color(s)}" stroke-width="2"/>')
        for (x, y), (xv, yv) in zip(coords, sorted(values), strict=True):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color(s)}">'
                f"<title>{escape(str(name))}: {yv:.3f} at {xv:g}</title></circle>"
            )
    return _frame(title, body, list(series))
