"""An SVG chart of bench/results/results.csv, written by hand (no plotting dependency).

Left: wall time per input size for ours, the floor and pandas (log scale), each size's latest run.
Right: peak memory, same layout. Below: our wall time per size across every recorded run,
so a regression shows up as a step.
"""
from __future__ import annotations

import csv
import math
from html import escape
from pathlib import Path

SERIES = [("ours", "ours_wall_s", "ours_peak_mb", "#1f77b4"),
          ("floor", "floor_wall_s", "floor_peak_mb", "#2ca02c"),
          ("pandas", "pandas_wall_s", "pandas_peak_mb", "#d62728")]
WIDTH, PANEL_H, HISTORY_H = 900, 300, 220


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value and value > 0 else None


def _log_scale(values: list[float], top: float, bottom: float):
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    if high <= low:
        high = low * 10

    def y(value: float) -> float:
        return bottom - (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low)) * (bottom - top)

    ticks = [10 ** e for e in range(int(math.log10(low)), int(math.log10(high)) + 1)]
    return y, ticks


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _bars(parts: list[str], rows: list[dict], key_index: int, x0: float, title: str, unit: str) -> None:
    top, bottom, width = 40, PANEL_H - 40, WIDTH / 2 - 70
    values = [v for row in rows for s in SERIES if (v := _number(row.get(s[key_index])))]
    parts.append(f'<text x="{x0}" y="22" font-weight="bold">{escape(title)}</text>')
    if not values:
        return
    y, ticks = _log_scale(values, top, bottom)
    for tick in ticks:
        parts.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{x0 - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10">'
                     f'{_label(tick)}</text>')
    group = width / max(len(rows), 1)
    bar = group / (len(SERIES) + 1)
    for i, row in enumerate(rows):
        gx = x0 + i * group + bar / 2
        for j, (name, *keys, colour) in enumerate(SERIES):
            value = _number(row.get(keys[key_index - 1]))
            bx = gx + j * bar
            if value is None:
                parts.append(f'<text x="{bx + bar / 2:.1f}" y="{bottom - 4}" text-anchor="middle" '
                             f'font-size="9">n/a</text>')
                continue
            parts.append(f'<rect x="{bx:.1f}" y="{y(value):.1f}" width="{bar - 2:.1f}" '
                         f'height="{bottom - y(value):.1f}" fill="{colour}"><title>{name}: '
                         f'{value:,.1f} {unit}</title></rect>')
            parts.append(f'<text x="{bx + bar / 2:.1f}" y="{y(value) - 3:.1f}" text-anchor="middle" '
                         f'font-size="9">{_label(value)}</text>')
        lines = int(float(row["lines"]))
        parts.append(f'<text x="{gx + 1.5 * bar:.1f}" y="{bottom + 16}" text-anchor="middle" '
                     f'font-size="11">{lines:,} lines</text>')
    for j, (name, *_rest, colour) in enumerate(SERIES):
        parts.append(f'<rect x="{x0 + j * 80}" y="{bottom + 24}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x0 + j * 80 + 14}" y="{bottom + 33}" font-size="11">{name}</text>')


def _history(parts: list[str], rows: list[dict], y0: float) -> None:
    top, bottom, x0, width = y0 + 30, y0 + HISTORY_H - 30, 60, WIDTH - 120
    parts.append(f'<text x="{x0}" y="{y0 + 18}" font-weight="bold">Our dbt build wall time '
                 f'(s) per run, one line per input size</text>')
    dates = sorted({row["date"] for row in rows})
    values = [v for row in rows if (v := _number(row.get("ours_wall_s")))]
    if not values:
        return
    y, ticks = _log_scale(values, top, bottom)
    for tick in ticks:
        parts.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
                     f'<text x="{x0 - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10">'
                     f'{_label(tick)}</text>')

    def x(date: str) -> float:
        return x0 + (dates.index(date) + 0.5) * width / len(dates)

    sizes = sorted({int(float(row["lines"])) for row in rows})
    palette = ["#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
    for n, size in enumerate(sizes):
        points = [(x(row["date"]), y(v)) for row in rows
                  if int(float(row["lines"])) == size and (v := _number(row.get("ours_wall_s")))]
        colour = palette[n % len(palette)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points]
        parts.append(f'<text x="{x0 + width + 4}" y="{top + 12 * n + 8}" font-size="10" '
                     f'fill="{colour}">{size:,}</text>')
    step = max(1, len(dates) // 8)
    for date in dates[::step]:
        parts.append(f'<text x="{x(date):.1f}" y="{bottom + 14}" text-anchor="middle" '
                     f'font-size="9">{escape(date)}</text>')


def write_chart(csv_path: Path, svg_path: Path) -> Path:
    with open(csv_path, newline="") as source:
        rows = list(csv.DictReader(source))
    by_size = {int(float(row["lines"])): row for row in rows}  # the last run of each size
    latest = [by_size[size] for size in sorted(by_size)]
    height = PANEL_H + HISTORY_H + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    when = ", ".join(f"{int(float(r['lines'])):,} lines {r['date']}" for r in latest)
    machine = f" on {latest[0]['machine']}" if latest else ""
    parts.append(f'<text x="{WIDTH / 2}" y="{height - 6}" text-anchor="middle" font-size="10" '
                 f'fill="#555">{escape(f"bars: latest run per size ({when} UTC){machine}")}</text>')
    _bars(parts, latest, 1, 60, "Wall time (s, log scale)", "s")
    _bars(parts, latest, 2, WIDTH / 2 + 50, "Peak memory (MB, log scale)", "MB")
    _history(parts, rows, PANEL_H)
    parts.append("</svg>")
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    svg_path.write_text("\n".join(parts) + "\n")
    return svg_path
