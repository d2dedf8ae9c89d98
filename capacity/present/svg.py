"""Small inline SVG charts for self-contained HTML pages: bars (stacked or not), a line, a limit.

No library, no script, no external asset: the page opens offline in any browser and prints. Axes start
at 0, tick labels are thinned so they never overlap, the legend sits outside the data (in HTML, above
the chart), and every chart has a <title> and a text alternative for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: Average width of a label character at the 12 px font used, in px (to keep tick labels apart).
CHAR_PX = 7.0


@dataclass(frozen=True)
class Layer:
    """One stacked series of a bar chart."""

    name: str
    values: Sequence[float]
    colour: str


@dataclass(frozen=True)
class Line:
    """A polyline over the bars (one value per bar), or a constant limit when `values` has one item."""

    name: str
    values: Sequence[float]
    colour: str
    dashed: bool = False


def nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5, 5 × 10^k) giving about `ticks` ticks from 0 to `top`."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    mag = 10 ** math.floor(math.log10(raw))
    return float(next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw))


def thin(labels: Sequence[str], slot_px: float) -> list[str]:
    """Keep every k-th label (k as small as possible) so that no two labels overlap."""
    widest = max((len(s) for s in labels), default=0) * CHAR_PX + 6
    every = max(1, math.ceil(widest / max(slot_px, 1e-9)))
    return [s if i % every == 0 else "" for i, s in enumerate(labels)]


def bars(
    title: str,
    labels: Sequence[str],
    layers: Sequence[Layer],
    *,
    lines: Sequence[Line] = (),
    unit: str = "",
    width: int = 760,
    height: int = 260,
    fmt: str = "{:,.0f}",
) -> str:
    """A bar chart (layers stacked) with optional lines, as an <svg> element."""
    n = len(labels)
    left, right, top, bottom = 64, 12, 26, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(layer.values[i] for layer in layers) for i in range(n)]
    peak = max([*totals, *(v for line in lines for v in line.values), 0.0])
    step = nice_step(peak)
    y_max = max(step, math.ceil(peak / step) * step)
    slot = plot_w / max(n, 1)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(title)}" font-size="12" font-family="sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    ticks = round(y_max / step)
    for k in range(ticks + 1):
        v = k * step
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd" stroke-width="1"/>'
        )
        label = fmt.format(v).replace(",", "\u202f")
        out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#333">{escape(label)}</text>')
    if unit:
        out.append(f'<text x="4" y="12" fill="#333">{escape(unit)}</text>')  # above the plot, clear of ticks
    bar_w = max(1.0, slot * 0.72)
    for i in range(n):
        base = 0.0
        x = left + i * slot + (slot - bar_w) / 2
        for layer in layers:
            v = float(layer.values[i])
            if v > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y(base + v):.1f}" width="{bar_w:.1f}" '
                    f'height="{y(base) - y(base + v):.1f}" fill="{layer.colour}">'
                    f"<title>{escape(labels[i])} — {escape(layer.name)} : {escape(fmt.format(v))}</title></rect>"
                )
            base += v
    for line in lines:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        if len(line.values) == 1:
            yy = y(float(line.values[0]))
            out.append(
                f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{line.colour}" '
                f'stroke-width="2"{dash}/>'
            )
            continue
        points = " ".join(f"{left + (i + 0.5) * slot:.1f},{y(float(v)):.1f}" for i, v in enumerate(line.values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{line.colour}" stroke-width="2"{dash}/>')
    out.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333" stroke-width="1"/>'
    )
    for i, text in enumerate(thin(labels, slot)):
        if text:
            out.append(
                f'<text x="{left + (i + 0.5) * slot:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                f'fill="#333">{escape(text)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def legend(items: Sequence[tuple[str, str, bool]]) -> str:
    """An HTML legend (outside the chart): (name, colour, is_line) per item."""
    parts = []
    for name, colour, is_line in items:
        shape = (
            f'<span class="key line" style="border-color:{colour}"></span>'
            if is_line
            else f'<span class="key" style="background:{colour}"></span>'
        )
        parts.append(f"<li>{shape}{escape(name)}</li>")
    return f'<ul class="legend">{"".join(parts)}</ul>'
