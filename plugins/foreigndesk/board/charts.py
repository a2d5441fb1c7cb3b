"""The board's figures as SVG drawn on the server: no script, no library, no outside connection.

Three shapes cover every figure the desk chief reads: lines over days, grouped
bars, and one-series horizontal bars. Every text that reaches the SVG is
escaped; every chart is a self-contained ``<svg role="img">`` with its title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
PALETTE = ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6d597a", "#457b9d", "#8d99ae")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    colour: str = ""
    dashed: bool = False


def _fmt(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000):
        if value <= step:
            return float(step)
    return float(value)


def _frame(title: str, height: int, body: list[str], empty_text: str, empty: bool) -> str:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>",
             f'<text x="8" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    if empty:
        parts.append(f'<text x="{WIDTH // 2}" y="{height // 2}" text-anchor="middle" fill="#6c757d" '
                     f'class="empty">{escape(empty_text)}</text>')
    else:
        parts += body
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(series: Sequence[Series], y: int) -> list[str]:
    parts, x = [], 50
    for n, item in enumerate(series):
        colour = item.colour or PALETTE[n % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="{y}" font-size="11">{escape(item.name)}</text>')
        x += 24 + 7 * len(item.name)
        if x > WIDTH - 80:
            x, y = 50, y + 16
    return parts


def _axis(top: int, bottom: int, left: int, right: int, maximum: float) -> list[str]:
    parts = []
    for n in range(5):
        value = maximum * n / 4
        y = bottom - (bottom - top) * n / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#dee2e6"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{_fmt(value)}</text>')
    return parts


def lines(title: str, days: Sequence[str], series: Sequence[Series], empty_text: str = "no data") -> str:
    """One line per series over ``days`` (ISO dates); labels on a few days only."""
    height, left, right, top, bottom = 260, 44, WIDTH - 12, 30, 200
    maximum = _nice_max(max((v for s in series for v in s.values), default=0))
    empty = not days or all(v == 0 for s in series for v in s.values)
    step = (right - left) / max(1, len(days) - 1)
    body = _axis(top, bottom, left, right, maximum)
    for n, day in enumerate(days):
        if n % max(1, len(days) // 6) == 0 or n == len(days) - 1:
            body.append(f'<text x="{left + n * step:.1f}" y="{bottom + 14}" font-size="10" '
                        f'text-anchor="middle">{escape(day[5:])}</text>')
    for n, item in enumerate(series):
        colour = item.colour or PALETTE[n % len(PALETTE)]
        points = " ".join(f"{left + i * step:.1f},{bottom - (bottom - top) * v / maximum:.1f}"
                          for i, v in enumerate(item.values))
        dash = ' stroke-dasharray="5 3"' if item.dashed else ""
        body.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2"{dash} points="{points}">'
                    f"<title>{escape(item.name)}: {_fmt(sum(item.values))}</title></polyline>")
    body += _legend(series, bottom + 34)
    return _frame(title, height, body, empty_text, empty)


def grouped_bars(title: str, groups: Sequence[str], series: Sequence[Series], unit: str = "",
                 empty_text: str = "no data") -> str:
    """Per group (e.g. a language), one bar per series (e.g. median, 90th percentile)."""
    height, left, right, top, bottom = 260, 44, WIDTH - 12, 30, 200
    maximum = _nice_max(max((v for s in series for v in s.values), default=0))
    empty = not groups or all(v == 0 for s in series for v in s.values)
    body = _axis(top, bottom, left, right, maximum)
    slot = (right - left) / max(1, len(groups))
    bar = min(40.0, (slot - 16) / max(1, len(series)))
    for g, group in enumerate(groups):
        x0 = left + g * slot + (slot - bar * len(series)) / 2
        for n, item in enumerate(series):
            value = item.values[g] if g < len(item.values) else 0
            h = (bottom - top) * value / maximum
            colour = item.colour or PALETTE[n % len(PALETTE)]
            body.append(f'<rect class="bar" x="{x0 + n * bar:.1f}" y="{bottom - h:.1f}" width="{bar - 2:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"><title>{escape(group)} · {escape(item.name)}: '
                        f'{_fmt(value)}{escape(unit)}</title></rect>')
        body.append(f'<text x="{left + g * slot + slot / 2:.1f}" y="{bottom + 14}" font-size="11" '
                    f'text-anchor="middle">{escape(group)}</text>')
    body += _legend(series, bottom + 34)
    return _frame(title, height, body, empty_text, empty)


def hbars(title: str, items: Sequence[tuple[str, float]], colour: str = "#457b9d", empty_text: str = "no data") -> str:
    """One horizontal bar per item, labelled with its value."""
    height = 40 + 22 * max(1, len(items))
    left, right = 170, WIDTH - 60
    maximum = max((v for _, v in items), default=0) or 1
    empty = not items or all(v == 0 for _, v in items)
    body = []
    for n, (name, value) in enumerate(items):
        y = 30 + n * 22
        w = (right - left) * value / maximum
        body.append(f'<text x="{left - 6}" y="{y + 14}" font-size="11" text-anchor="end">{escape(name[:28])}</text>'
                    f'<rect class="bar" x="{left}" y="{y + 3}" width="{w:.1f}" height="15" fill="{colour}">'
                    f"<title>{escape(name)}: {_fmt(value)}</title></rect>"
                    f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="11">{_fmt(value)}</text>')
    return _frame(title, height, body, empty_text, empty)
