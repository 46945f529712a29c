"""An SVG chart of bench/results/results.csv, written by hand (no plotting dependency).

Top: wall time per input size for the whole `make run`, our dbt build, the floor, the bare
notebook and the full pandas path (log scale), each size's latest run; right: peak memory, same
layout. Middle: the curves, cost against lines (1M, 10M, 100M) and, for the phases that work per
customer (clustering, history, the snapshots), against customers (10k, 100k, 1M): a straight line
of slope 1 on these log-log axes is linear growth. Below: our dbt build's wall time per size
across every recorded run, so a regression shows up as a step.
"""
from __future__ import annotations

import csv
import math
from html import escape
from pathlib import Path

import json

SERIES = [("make run", "run_wall_s", "run_peak_mb", "#17becf"),
          ("dbt build", "ours_wall_s", "ours_peak_mb", "#1f77b4"),
          ("floor", "floor_wall_s", "floor_peak_mb", "#2ca02c"),
          ("notebook", "notebook_wall_s", "notebook_peak_mb", "#ff7f0e"),
          ("pandas", "pandas_wall_s", "pandas_peak_mb", "#d62728")]
# Phases of make run (run_phases) whose work is per customer, drawn against customers.
CUSTOMER_PHASES = [("clustering", ("intermediate/clustering", "marts/clustering"), "#9467bd"),
                   ("history", ("intermediate/history", "marts/history"), "#8c564b"),
                   ("RFM + snapshots", ("intermediate/rfm",), "#e377c2")]
WIDTH, PANEL_H, CURVES_H, HISTORY_H = 900, 300, 300, 220


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
        parts.append(f'<text x="{gx + len(SERIES) * bar / 2:.1f}" y="{bottom + 16}" text-anchor="middle" '
                     f'font-size="11">{lines:,} lines</text>')
    for j, (name, *_rest, colour) in enumerate(SERIES):
        parts.append(f'<rect x="{x0 + j * 75}" y="{bottom + 24}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x0 + j * 75 + 14}" y="{bottom + 33}" font-size="10">{name}</text>')


def _curves(parts: list[str], x0: float, y0: float, title: str, x_label: str,
            series: list[tuple[str, list[tuple[float, float]], str]]) -> None:
    """Log-log lines: cost (s) against size; one polyline per series."""
    top, bottom, width = y0 + 30, y0 + CURVES_H - 50, WIDTH / 2 - 80
    parts.append(f'<text x="{x0}" y="{y0 + 18}" font-weight="bold">{escape(title)}</text>')
    xs = [x for _, points, _ in series for x, _ in points]
    ys = [y for _, points, _ in series for _, y in points]
    if not xs:
        return
    y, ticks = _log_scale(ys, top, bottom)
    low, high = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    high = max(high, low + 1)

    def x(value: float) -> float:
        return x0 + (math.log10(value) - low) / (high - low) * width

    for tick in ticks:
        parts.append(f'<line x1="{x0}" x2="{x0 + width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>'
                     f'<text x="{x0 - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10">{_label(tick)}</text>')
    for e in range(low, high + 1):
        parts.append(f'<text x="{x(10 ** e):.1f}" y="{bottom + 14}" text-anchor="middle" font-size="10">'
                     f'{10 ** e:,}</text>')
    parts.append(f'<text x="{x0 + width / 2}" y="{bottom + 28}" text-anchor="middle" font-size="11">{escape(x_label)}</text>')
    for j, (name, points, colour) in enumerate(series):
        if not points:
            continue
        path = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in sorted(points))
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x(px):.1f}" cy="{y(py):.1f}" r="3" fill="{colour}"><title>{escape(name)}: '
                  f'{py:,.1f} s at {px:,.0f}</title></circle>' for px, py in points]
        parts.append(f'<rect x="{x0 + (j % 3) * 110}" y="{bottom + 34 + (j // 3) * 12}" width="10" height="8" fill="{colour}"/>'
                     f'<text x="{x0 + (j % 3) * 110 + 13}" y="{bottom + 42 + (j // 3) * 12}" font-size="10">{escape(name)}</text>')


def _phase_seconds(row: dict, folders: tuple[str, ...]) -> float | None:
    try:
        phases = json.loads(row.get("run_phases") or "{}")
    except ValueError:
        return None
    found = [phases[folder] for folder in folders if folder in phases]
    return sum(found) if found and sum(found) > 0 else None


def _growth(parts: list[str], rows: list[dict], y0: float) -> None:
    by_lines = [(name, [(float(r["lines"]), v) for r in rows if (v := _number(r.get(key)))], colour)
                for name, key, _, colour in SERIES]
    _curves(parts, 60, y0, "Cost against lines (s, log-log)", "input lines", by_lines)
    by_customers = [(name, [(c, v) for r in rows if (c := _number(r.get("customers")))
                            and (v := _phase_seconds(r, folders))], colour)
                    for name, folders, colour in CUSTOMER_PHASES]
    _curves(parts, WIDTH / 2 + 50, y0, "make run phases per customer (s, log-log)", "customers",
            by_customers)


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
    height = PANEL_H + CURVES_H + HISTORY_H + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    when = ", ".join(f"{int(float(r['lines'])):,} lines {r['date']}" for r in latest)
    machine = f" on {latest[0]['machine']}" if latest else ""
    parts.append(f'<text x="{WIDTH / 2}" y="{height - 6}" text-anchor="middle" font-size="10" '
                 f'fill="#555">{escape(f"bars: latest run per size ({when} UTC){machine}")}</text>')
    _bars(parts, latest, 1, 60, "Wall time (s, log scale)", "s")
    _bars(parts, latest, 2, WIDTH / 2 + 50, "Peak memory (MB, log scale)", "MB")
    _growth(parts, latest, PANEL_H)
    _history(parts, rows, PANEL_H + CURVES_H)
    parts.append("</svg>")
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    svg_path.write_text("\n".join(parts) + "\n")
    return svg_path
