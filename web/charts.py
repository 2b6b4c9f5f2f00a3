"""Charts rendered on the server as inline SVG: no script, no chart library, nothing the CSP forbids.

A chart is an `<svg role="img">` with an aria-label, axes with labels, a `<title>` tooltip on every
point and bar, and links on the marks that lead to the list behind them. The legend is HTML (it wraps
on a phone), and every chart comes with the same figures as a table for screen readers and for
anyone who wants the numbers (`web/dashboard/_chart.html` renders it in a `<details>`).

The viewBox is narrow (420 units) so that the text stays legible when a phone scales it down.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Distinguishable for the common colour-vision deficiencies and dark enough on white (Okabe–Ito, darkened).
PALETTE = ["#1f5fbf", "#c25e00", "#1b7a3a", "#9c2f8f", "#5b6473", "#0f7f8f", "#b3261e", "#7a6a00"]
WIDTH = 420
FONT = 12


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    href: str = ""


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart: its label, one value per series (overlaid or stacked), and the
    list behind it."""

    label: str
    values: Sequence[float | None]
    href: str = ""
    note: str = ""


@dataclass(frozen=True)
class LegendItem:
    name: str
    colour: str
    href: str = ""


@dataclass
class Chart:
    label: str
    svg: SafeString
    legend: list[LegendItem] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[list[tuple[str, str, str]]] = field(default_factory=list)  # (column, text, href) per cell
    empty: bool = False


def _nice_max(value: float) -> float:
    """The smallest 1/2/2.5/5 × 10^n at or above value, so the axis reads in round steps."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def duration_axis_max(hours: float) -> float:
    """An axis end in hours whose quarters read as whole hours or whole days."""
    for top in (1, 2, 4, 8, 12, 24, 48):
        if hours <= top:
            return float(top)
    days = hours / 24
    for top_days in (4, 8, 12, 20, 40, 60, 80, 120, 200, 400):
        if days <= top_days:
            return float(top_days * 24)
    return _nice_max(days) * 24


def count_axis_max(count: float) -> float:
    """An axis end for counts whose quarters are whole numbers."""
    return float(max(4, math.ceil(_nice_max(count) / 4) * 4))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(label: str, height: float, body: list[str]) -> SafeString:
    return format_html('<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
                       'xmlns="http://www.w3.org/2000/svg" font-size="{}"><title>{}</title>{}</svg>',
                       label, WIDTH, _num(height), FONT, label, mark_safe("".join(body)))  # noqa: S308


def _linked(href: str, mark: str) -> str:
    return f'<a href="{escape(href)}">{mark}</a>' if href else mark


def line_chart(*, label: str, x_labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str],
               y_min: float = 0.0, y_max: float | None = None, y_title: str = "", first_column: str = "",
               height: int = 230) -> Chart:
    """One line per series over the x labels (e.g. months); a None value is a gap in the line."""
    values = [v for s in series for v in s.values if v is not None]
    chart = Chart(label=label, svg=SafeString(""), empty=not values)
    chart.legend = [LegendItem(s.name, colour(i), s.href) for i, s in enumerate(series)]
    chart.table_head = [first_column, *[s.name for s in series]]
    chart.table_rows = [[(first_column, x, "")] + [(s.name, fmt(s.values[j]) if s.values[j] is not None else "–", "")
                                                   for s in series] for j, x in enumerate(x_labels)]
    if chart.empty:
        return chart
    top = y_max if y_max is not None else _nice_max(max(values))
    bottom = y_min if y_min is not None else min(values)
    left, right, upper, lower = 44, 10, 26 if y_title else 8, 34
    plot_w, plot_h = WIDTH - left - right, height - upper - lower
    n = max(len(x_labels), 1)

    def x(j: int) -> float:
        return left + (plot_w * (j + 0.5) / n)

    def y(v: float) -> float:
        return upper + plot_h * (1 - (v - bottom) / ((top - bottom) or 1))

    body = []
    if y_title:
        body.append(f'<text x="2" y="10" fill="#5b6473">{escape(y_title)}</text>')
    for k in range(5):
        v = bottom + (top - bottom) * k / 4
        body.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#d8dde5"/>'
                    f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#5b6473">{escape(fmt(v))}</text>')
    step = max(1, math.ceil(n / 6))
    for j, text in enumerate(x_labels):
        if (n - 1 - j) % step == 0:  # counted back from the latest month, which is always labelled
            body.append(f'<text x="{x(j):.1f}" y="{height - lower + 16}" text-anchor="middle" '
                        f'fill="#5b6473">{escape(text)}</text>')
    body.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{upper + plot_h}" y2="{upper + plot_h}" '
                f'stroke="#5b6473"/>')
    for i, s in enumerate(series):
        segments, current = [], []
        for j, v in enumerate(s.values):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{x(j):.1f},{y(v):.1f}")
        if current:
            segments.append(current)
        for points in segments:
            if len(points) > 1:
                body.append(f'<polyline fill="none" stroke="{colour(i)}" stroke-width="2.5" '
                            f'points="{" ".join(points)}"/>')
        for j, v in enumerate(s.values):
            if v is None:
                continue
            tip = f"{s.name} · {x_labels[j]}: {fmt(v)}"
            body.append(_linked(s.href, f'<circle cx="{x(j):.1f}" cy="{y(v):.1f}" r="4" fill="{colour(i)}">'
                                        f'<title>{escape(tip)}</title></circle>'))
    chart.svg = _svg(label, height, body)
    return chart


def bar_chart(*, label: str, bars: Sequence[Bar], series: Sequence[str], fmt: Callable[[float], str],
              stacked: bool = False, x_max: float | None = None, first_column: str = "",
              marker: float | None = None, marker_label: str = "") -> Chart:
    """Horizontal bars, one row per bar with its label above it (long gate and team names fit on a
    phone). Several series are stacked, or overlaid with the first drawn widest (e.g. p90 behind the
    median) when not stacked. `marker` draws a dashed threshold line."""
    chart = Chart(label=label, svg=SafeString(""), empty=not any(v for b in bars for v in b.values if v))
    chart.legend = [LegendItem(name, colour(i)) for i, name in enumerate(series)]
    chart.table_head = [first_column, *series]
    chart.table_rows = [[(first_column, b.label, b.href)] + [(name, fmt(v) if v is not None else "–", "")
                                                            for name, v in zip(series, b.values, strict=True)]
                        for b in bars]
    if chart.empty:
        return chart
    totals = [sum(v or 0 for v in b.values) if stacked else max(v or 0 for v in b.values) for b in bars]
    top = x_max if x_max is not None else _nice_max(max(totals + [marker or 0]))
    left, right, row_h, bar_h, axis_h = 4, 56, 38, 16, 22
    plot_w = WIDTH - left - right
    height = len(bars) * row_h + axis_h + 4

    def w(v: float) -> float:
        return plot_w * min(v, top) / top

    body = []
    for k in range(5):
        gx = left + plot_w * k / 4
        body.append(f'<line x1="{gx:.1f}" x2="{gx:.1f}" y1="0" y2="{height - axis_h}" stroke="#d8dde5"/>'
                    f'<text x="{gx:.1f}" y="{height - 6}" text-anchor="{"start" if k == 0 else "middle"}" '
                    f'fill="#5b6473">{escape(fmt(top * k / 4))}</text>')
    for r, (b, total) in enumerate(zip(bars, totals, strict=True)):
        y0 = r * row_h
        marks = [f'<text x="{left}" y="{y0 + 13}" class="label">{escape(b.label)}</text>']
        offset = 0.0
        for i, v in enumerate(b.values):
            if not v:
                continue
            bx = left + (w(offset) if stacked else 0)
            thickness = bar_h if stacked or i == 0 else bar_h / 2
            by = y0 + 17 + (bar_h - thickness) / 2
            tip = f"{b.label} · {series[i]}: {fmt(v)}" + (f" · {b.note}" if b.note else "")
            marks.append(f'<rect x="{bx:.1f}" y="{by:.1f}" width="{max(w(v), 1):.1f}" '
                         f'height="{thickness:.1f}" fill="{colour(i)}"><title>{escape(tip)}</title></rect>')
            if stacked:
                offset += v
        marks.append(f'<text x="{left + w(total) + 4:.1f}" y="{y0 + 29}" class="label">{escape(fmt(total))}</text>')
        body.append(_linked(b.href, "".join(marks)))
    if marker is not None:
        mx = left + w(marker)
        body.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="0" y2="{height - axis_h}" stroke="#b3261e" '
                    f'stroke-dasharray="4 3" stroke-width="1.5"><title>{escape(marker_label)}</title></line>')
        chart.legend.append(LegendItem(marker_label, "#b3261e"))
    chart.svg = _svg(label, height, body)
    return chart
