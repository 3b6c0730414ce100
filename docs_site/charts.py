"""Small inline SVG charts rendered at build time: no chart library in the page.

Each chart is a line over time with its first and last value labelled; the values are
formatted here, so the same points always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

__all__ = ["line_chart"]

_W, _H, _PAD = 320, 90, 22


def line_chart(points: Sequence[tuple[datetime, float]], *, title: str, unit: str = "") -> Markup:
    """An SVG line chart of ``(time, value)`` points (sorted here), or an empty Markup."""
    data = sorted(points)
    if not data:
        return Markup("")
    times = [t.timestamp() for t, _ in data]
    values = [v for _, v in data]
    t0, t1 = min(times), max(times)
    v0, v1 = min(values), max(values)
    span_t = (t1 - t0) or 1.0
    span_v = (v1 - v0) or 1.0

    def x(t: float) -> float:
        return _PAD + (t - t0) / span_t * (_W - 2 * _PAD)

    def y(v: float) -> float:
        return _H - _PAD + 8 - (v - v0) / span_v * (_H - 2 * _PAD)

    path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, values, strict=True))
    dots = "".join(
        f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2"><title>{escape(_when(when))}: '
        f"{escape(_fmt(v))}{escape(unit)}</title></circle>"
        for (when, _), t, v in zip(data, times, values, strict=True)
    )
    first, last = data[0], data[-1]
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text x="{_PAD}" y="12" class="chart-title">{escape(title)}</text>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{path}"/>'
        f"{dots}"
        f'<text x="{_PAD}" y="{_H - 2}" class="chart-axis">{escape(_when(first[0]))} '
        f"{escape(_fmt(first[1]))}{escape(unit)}</text>"
        f'<text x="{_W - _PAD}" y="{_H - 2}" text-anchor="end" class="chart-axis">'
        f"{escape(_when(last[0]))} {escape(_fmt(last[1]))}{escape(unit)}</text></svg>"
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}"
