"""The HTML report: rendered from the marts, self-contained, and checked in a real headless Chromium."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import build, run_pipeline
from report_browser import inspect_report

EXPECTED_CHARTS = {
    "elbow", "silhouette_by_k", "silhouette_plot", "scatter_3d", "pair_plots", "profile_chart",
    "stability_chart", "tier_cluster_heatmap", "named_treemap", "quality_chart",
    "migration_sankey", "sizes_over_time", "drift_trend", "clv_segment_value", "clv_calibration",
    "attribute_index_heatmap",  # customer attributes: the sample profiles by country
}


@pytest.fixture(scope="module")
def sampled_db(tmp_path_factory, sample_csv) -> Path:
    """A build whose customer-level charts and stability run on samples smaller than the customers."""
    return build(tmp_path_factory.mktemp("sampled"), "--data", str(sample_csv), "--vars",
                 "{silhouette_plot_sample_size: 200, stability_sample_size: 300, stability_resamples: 5}")


def render(db: Path, out: Path) -> str:
    result = run_pipeline(db.parent, "report", "--out", str(out), db_name=db.name)
    assert result.returncode == 0, result.stderr
    assert f"Report: {out}" in result.stdout
    return out.read_text()



def test_run_ends_with_the_report_next_to_the_warehouse(sample_db):
    report = sample_db.with_name("segments_report.html")
    assert report.exists() and "Customer segments" in report.read_text()[:2000]


def test_report_is_one_self_contained_file(sample_db, tmp_path):
    html = render(sample_db, tmp_path / "report.html")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|<img[^>]+src=\"?http", html)
    assert "plotly.js v" in html[:100_000] or "plotly.js v" in html  # the library is inlined
    assert {m for m in re.findall(r'id="figure-(\w+)"', html)} == EXPECTED_CHARTS
    for title in ("Why ", "Segment profiles:", "Classic RFM segments:", "Data quality:", "How to read:"):
        assert title in html
    assert "Showing a random sample" not in html  # every customer is in the sample here


def test_report_says_when_it_shows_a_sample(sampled_db, tmp_path):
    html = render(sampled_db, tmp_path / "report.html")
    customers = re.search(r"Showing a random sample of ([\d,]+) of ([\d,]+) customers", html)
    assert customers and customers.group(1) == "200" and int(customers.group(2).replace(",", "")) > 200
    assert re.search(r"refitted the model 5 times on random resamples of\s+300 customers", html)
    with duckdb.connect(str(sampled_db), read_only=True) as con:  # the bounded cost is on record
        assert con.execute(
            "select distinct sample_size, n_resamples, n_customers > 300 from clustering.cluster_stability"
        ).fetchall() == [(300, 5, True)]
        assert con.execute("select count(*) from clustering.cluster_silhouette_values").fetchone()[0] == 200


def test_missing_warehouse_is_a_one_line_error(tmp_path):
    result = run_pipeline(tmp_path, "report", "--out", str(tmp_path / "r.html"), db_name="missing.duckdb")
    assert result.returncode == 1
    assert result.stderr.startswith("error: warehouse not found") and "Traceback" not in result.stderr


def test_report_renders_in_headless_chromium(sample_db, tmp_path):
    report = tmp_path / "report.html"
    render(sample_db, report)
    screenshot = tmp_path / "report.png"
    page = inspect_report(report, screenshot)
    assert page["console_errors"] == [] and page["page_errors"] == []
    assert page["external_requests"] == []  # works offline
    assert page["title"].startswith("Customer segments report")
    charts = {chart["id"]: chart for chart in page["charts"]}
    assert set(charts) == set(page["expected_charts"]) == EXPECTED_CHARTS
    for chart_id, chart in charts.items():
        assert chart["drawn"], chart_id
        assert chart["traces"], chart_id
        assert all(trace["points"] > 0 for trace in chart["traces"]), chart
    assert {t["type"] for t in charts["scatter_3d"]["traces"]} == {"scatter3d"}
    assert page["rotated"] is True  # a user can rotate the 3D scatter
    assert screenshot.stat().st_size > 50_000
    if os.environ.get("REPORT_SCREENSHOT"):  # keep a copy to look at
        shutil.copy(screenshot, os.environ["REPORT_SCREENSHOT"])


def test_report_flags_an_unstable_segment(sample_db, tmp_path):
    db = tmp_path / "segments.duckdb"
    published = tmp_path / "serving" / "segments.duckdb"  # what the report reads
    published.parent.mkdir()
    shutil.copy(sample_db.parent / "serving" / "segments.duckdb", published)
    published.chmod(0o644)
    with duckdb.connect(str(published)) as con:
        (name,) = con.execute("select segment_name from marts.segment_profiles where cluster_id = 2").fetchone()
        con.execute("update marts.segment_profiles set is_stable = false, stability_jaccard = 0.41 where cluster_id = 2")
    html = render(db, tmp_path / "report.html")
    assert f"1 of 4 segments is unstable: {name}" in html
    assert html.count("(unstable segment: check before acting)") == 1
    assert '<span class="warn">no</span> (0.41)' in html


@pytest.mark.parametrize("width", [1280, 390])
def test_report_reads_at_desktop_and_narrow_widths(sample_db, tmp_path, width):
    """Screenshots at a desktop and a phone width: nothing wider than the screen, no chart text
    outside its chart, the migration Sankey's labels apart; the backtest is on the page."""
    from report_browser import screenshot_sections

    html = render(sample_db, tmp_path / "report.html")
    assert "Do the segments predict?" in html
    sections = ("summary", "backtest", "over-time", "scatter", "quality")
    page = screenshot_sections(tmp_path / "report.html", tmp_path / "shots", width, sections)
    assert page["page_width"] <= page["viewport_width"] == width
    assert page["text_outside_charts"] == []
    assert page["sankey_labels"] >= 8 and page["sankey_label_overlaps"] == []
    for section, path in page["screenshots"].items():
        assert path.stat().st_size > 5_000, section
    if os.environ.get("REPORT_SCREENSHOT_DIR"):  # keep copies to look at
        for path in page["screenshots"].values():
            shutil.copy(path, Path(os.environ["REPORT_SCREENSHOT_DIR"]) / path.name)
