"""Open a report in Debian's headless Chromium via Playwright: errors, charts, screenshot.

Also a script that refreshes the README's screenshot:
    .venv/bin/python tests/report_browser.py reports/segments_report.html docs/report.png
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# Per plotly div: its traces and how many points each draws (x, values or z, whichever it has).
CHART_STATE = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => ({
    id: gd.id,
    drawn: gd.querySelector('.main-svg') !== null,
    traces: (gd.data || []).map(t => ({
        type: t.type || 'scatter',
        points: (t.x || t.values || t.z || (t.link && t.link.value) || []).length,
    })),
}))"""


def ensure_chromium() -> Path:
    """Debian's chromium, installed by the project's Makefile when missing."""
    if not CHROMIUM.exists():
        subprocess.run(["make", "-s", "chromium"], cwd=REPO, check=False)
    if not CHROMIUM.exists():
        raise RuntimeError("Chromium is missing: run `make chromium` as root (apt-get install chromium)")
    return CHROMIUM


def inspect_report(report: Path, screenshot: Path) -> dict:
    """Load `report` from disk with networking blocked; return console errors, page errors,
    requests that left the file, chart states and the page title; save a full-page screenshot."""
    from playwright.sync_api import sync_playwright

    problems: dict[str, list] = {"console_errors": [], "page_errors": [], "external_requests": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and problems["console_errors"].append(m.text))
            page.on("pageerror", lambda e: problems["page_errors"].append(str(e)))

            def block_outside(route):
                if route.request.url.startswith("file://"):
                    return route.continue_()
                problems["external_requests"].append(route.request.url)
                return route.abort()

            page.route("**/*", block_outside)
            page.goto(report.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "() => document.querySelectorAll('.js-plotly-plot').length === "
                "document.querySelectorAll('script[id^=\"figure-\"]').length",
                timeout=30_000,
            )
            page.wait_for_timeout(500)  # WebGL scenes draw a frame after the promise
            charts = page.evaluate(CHART_STATE)
            expected = page.evaluate(
                "() => Array.from(document.querySelectorAll('script[id^=\"figure-\"]')).map(n => n.id.slice(7))"
            )
            title = page.title()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
            rotated = _drag_rotates(page, "scatter_3d")
        finally:
            browser.close()
    return {**problems, "charts": charts, "expected_charts": expected, "title": title, "rotated": rotated}


def _drag_rotates(page, chart_id: str) -> bool | None:
    """Drag across a 3D chart like a user; True if its camera moved (None: no such chart)."""
    chart = page.locator(f"#{chart_id}")
    if chart.count() == 0:
        return None
    eye = f"() => JSON.stringify(document.getElementById('{chart_id}').layout.scene.camera.eye)"
    before = page.evaluate(eye)
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 150, y + 20, steps=10)
    page.mouse.up()
    page.wait_for_timeout(300)
    return page.evaluate(eye) != before


def screenshot_sections(report: Path, out_dir: Path, width: int, sections: tuple[str, ...]) -> dict:
    """Open `report` at a viewport `width`; screenshot each section (by id) into out_dir and
    measure what a reader would see cut off: page wider than the screen, chart text (axis titles,
    labels) outside its chart's box, Sankey node labels overlapping each other."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                       else route.abort())
            page.goto(report.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "() => document.querySelectorAll('.js-plotly-plot').length === "
                "document.querySelectorAll('script[id^=\"figure-\"]').length", timeout=30_000)
            page.wait_for_timeout(800)
            out_dir.mkdir(parents=True, exist_ok=True)
            shots = {}
            for section in sections:
                path = out_dir / f"{section}-{width}.png"
                page.locator(f"#{section}").screenshot(path=str(path))
                shots[section] = path
            measures = page.evaluate(LAYOUT_PROBLEMS)
        finally:
            browser.close()
    return {"screenshots": shots, **measures}


# Text of SVG charts outside the chart's own box (clipped titles), overlapping Sankey labels, and
# the page's horizontal overflow. 3D scenes draw their axis titles in WebGL: those are checked by
# the scene's camera and domain instead (see the report's scatter_3d).
LAYOUT_PROBLEMS = """() => {
    const outside = [];
    document.querySelectorAll('.js-plotly-plot').forEach(gd => {
        const box = gd.getBoundingClientRect();
        gd.querySelectorAll('.g-xtitle text, .g-ytitle text, .xtick text, .ytick text, .node-label').forEach(t => {
            const r = t.getBoundingClientRect();
            if (r.width === 0) return;
            if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
                outside.push(gd.id + ': ' + t.textContent);
        });
    });
    const labels = Array.from(document.querySelectorAll('#migration_sankey .node-label'))
        .map(t => ({text: t.textContent, r: t.getBoundingClientRect()})).filter(l => l.r.width > 0);
    const overlaps = [];
    for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
        const a = labels[i].r, b = labels[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
            overlaps.push(labels[i].text + ' / ' + labels[j].text);
    }
    return {page_width: document.documentElement.scrollWidth, viewport_width: window.innerWidth,
            text_outside_charts: outside, sankey_label_overlaps: overlaps,
            sankey_labels: labels.length};
}"""


if __name__ == "__main__":
    result = inspect_report(Path(sys.argv[1]), Path(sys.argv[2]))
    print({k: v for k, v in result.items() if k != "charts"})
    for chart in result["charts"]:
        print(chart["id"], chart["drawn"], [t["points"] for t in chart["traces"]])
