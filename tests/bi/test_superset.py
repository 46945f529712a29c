"""`make dashboard`: Apache Superset from scratch on a published sample build, the dashboards the
exposures describe, every chart's data through Superset's REST API, the main dashboard in Chromium.

Superset runs from .venv-superset (installed by the Makefile; the first run installs it here too)
with a temporary home and a free port. Nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import json
import re
import socket
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlalchemy

from conftest import REPO
from report_browser import ARGS, ensure_chromium
from rfm_segments import superset_dashboards as dashboards
from rfm_segments.cli import DEFAULT_DB, report_path
from rfm_segments.publish import SERVING_FILE, publish

pytestmark = pytest.mark.superset
MAIN = "customer_segments_dashboard"
#: Superset's pip build compiles a usage pixel into its menu bar; our content security policy
#: makes the browser refuse it (so nothing leaves the machine), which Chromium logs as an error.
REFUSED_PIXEL = re.compile(r"^Loading the image 'https://apachesuperset\.gateway\.scarf\.sh/.*"
                           r"violates the following Content Security Policy directive")


def ensure_superset() -> Path:
    if not dashboards.DEFAULT_SUPERSET.exists():
        subprocess.run(["make", "-s", ".venv-superset/.installed"], cwd=REPO, check=False)
    assert dashboards.DEFAULT_SUPERSET.exists(), "Superset is missing: `make .venv-superset/.installed` failed"
    return dashboards.DEFAULT_SUPERSET


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def published_tables(database: Path) -> set[str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {f"{schema}.{name}" for schema, name in
                con.execute("select table_schema, table_name from serving.publication").fetchall()}


# ------------------------------------------------------------------ without a server


def test_committed_assets_are_what_the_spec_generates():
    committed = dashboards._committed_assets()
    assert committed == json.loads(json.dumps(dashboards.export_files())), \
        "bi/superset/assets is stale: run `python -m rfm_segments.superset_dashboards export`"


def test_dashboards_are_the_exposures_tile_for_tile_on_published_tables(sample_db):
    spec, exposures = dashboards.load_spec(), dashboards.load_exposures()
    published = published_tables(sample_db.parent / "serving" / SERVING_FILE)
    superset_exposures = {name for name, exposure in exposures.items()
                          if exposure.get("url", "").startswith("http://127.0.0.1:")}
    assert set(spec) == superset_exposures and len(spec) == 6
    for name, exposure in exposures.items():
        assert exposure.get("url"), f"exposure {name} points nowhere"
        refs = {re.fullmatch(r"ref\('(\w+)'\)", ref).group(1) for ref in exposure["depends_on"]}
        if name not in spec:
            continue
        assert exposure["url"] == f"http://127.0.0.1:{dashboards.DEFAULT_PORT}{dashboards.dashboard_path(name)}"
        tables = [tile.table for tile in dashboards.tiles({name: spec[name]})]
        assert {table.split(".")[1] for table in tables} == refs, name  # one tile per table (at least)
        assert set(tables) <= published, f"{name} reads tables that are not published"
        for table in tables:  # each table named in the exposure's description
            assert f"({table.split('.')[1]}" in " ".join(exposure["description"].split()), (name, table)
    questions = [tile.question for tile in dashboards.tiles(spec)]
    assert all(question.endswith("?") for question in questions) and len(set(questions)) == len(questions)
    assert REPO / exposures["segments_report"]["url"] == report_path(DEFAULT_DB)  # the HTML report


def test_a_misspelled_tile_key_is_refused_not_ignored():
    spec = {"d": {"tiles": [{"question": "Who?", "table": "marts.customer_segments", "chart": "table", "colums": []}]}}
    with pytest.raises(dashboards.DashboardError, match="tile 1: .*unknown keys: \\['colums'\\]"):
        list(dashboards.tiles(spec))


def test_the_admin_password_is_chosen_generated_or_kept(tmp_path, monkeypatch):
    server = dashboards.Superset(tmp_path, tmp_path / SERVING_FILE)
    monkeypatch.delenv(dashboards.PASSWORD_ENV, raising=False)
    generated = server.password()
    assert len(generated) >= 16 and server.password() == generated  # kept across runs
    assert (tmp_path / "admin_password").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(dashboards.PASSWORD_ENV, "chosen-by-me")
    assert server.password() == "chosen-by-me"
    monkeypatch.delenv(dashboards.PASSWORD_ENV)
    assert server.password() == "chosen-by-me"


# ------------------------------------------------------------------ Superset from scratch


@pytest.fixture(scope="module")
def superset(sample_db, tmp_path_factory):
    """Superset from an empty home, serving a private publication of the sample build (so
    republishing it below cannot disturb other tests)."""
    executable = ensure_superset()
    root = tmp_path_factory.mktemp("superset")
    serving = root / "serving"
    publish(sample_db, serving, sample_db.parent / "target", build_id="first")
    server = dashboards.Superset(root / "home", serving / SERVING_FILE, free_port(), executable)
    password = server.prepare(progress=lambda _: None)
    server.start(progress=lambda _: None)
    try:
        session = server.session(password)
        server.import_dashboards(session)
        yield server, session, password
    finally:
        server.stop()


def api(superset, method: str, path: str, **kwargs) -> dict:
    server, session, _ = superset
    response = session.request(method, f"{server.url}/api/v1/{path}", timeout=120, **kwargs)
    assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text[:500]}"
    return response.json()


def listing(superset, resource: str, columns: list[str]) -> list[dict]:
    return api(superset, "GET", f"{resource}/", params={"q": json.dumps({"columns": columns, "page_size": 100})})["result"]


def chart_data(superset) -> dict[str, list[dict]]:
    """Every chart's rows, asked through the chart data API (the chart's saved query), by title."""
    charts = listing(superset, "chart", ["id", "slice_name"])
    return {chart["slice_name"]: api(superset, "GET", f"chart/{chart['id']}/data/")["result"][0]["data"]
            for chart in charts}


def sql_lab(superset, sql: str) -> dict:
    server, session, _ = superset
    database = next(d for d in listing(superset, "database", ["id", "database_name"])
                    if d["database_name"] == dashboards.DATABASE_NAME)
    return session.post(f"{server.url}/api/v1/sqllab/execute/", timeout=120,
                        json={"database_id": database["id"], "sql": sql, "runAsync": False}).json()


def test_every_chart_answers_with_the_numbers_of_the_marts(superset, sample_db):
    spec = dashboards.load_spec()
    data = chart_data(superset)
    assert sorted(data) == sorted(tile.question for tile in dashboards.tiles(spec))
    assert all(rows for rows in data.values()), [question for question, rows in data.items() if not rows]
    tile = {tile.table: tile.question for tile in dashboards.tiles(spec)}

    with duckdb.connect(str(sample_db), read_only=True) as con:
        def marts(sql):
            return con.execute(sql).fetchall()

        profiles = {(r["segment_name"], r["customers"], Decimal(str(r["revenue"])).quantize(Decimal("0.01")))
                    for r in data[tile["marts.segment_profiles"]]}
        assert profiles == set(marts("select segment_name, customers, revenue from marts.segment_profiles"))
        heatmap = {(r["segment_name"], r["tier"]): r["customers"] for r in data[tile["marts.tier_cluster_comparison"]]}
        assert heatmap == dict(((s, t), n) for s, t, n in
                               marts("select segment_name, tier, customers from marts.tier_cluster_comparison"))
        customers = data[tile["marts.customer_segments"]]
        assert len(customers) == marts("select count(*) from marts.customer_segments")[0][0]
        assert sorted(r["customer_id"] for r in customers) == sorted(
            r[0] for r in marts("select customer_id from marts.customer_segments"))
        outcomes = {r["outcome"]: r["rows"] for r in data[tile["marts.data_quality_summary"]]}
        assert sum(outcomes.values()) == 60_000 and outcomes["valid"] == marts(
            "select count(*) from marts.clean_transactions")[0][0]
        monthly = data[tile["marts.clean_transactions"]]
        assert len(monthly) == marts("select count(distinct date_trunc('month', invoice_date)) from marts.clean_transactions")[0][0]
        assert round(sum(r["revenue"] for r in monthly), 2) == float(marts("select sum(amount) from marts.clean_transactions")[0][0])
        k = next(r["k"] for r in data[tile["clustering.cluster_k_evaluation"]] if r["is_chosen"])
        assert k == marts("select count(*) from marts.segment_profiles")[0][0]
        by_country = {r["country"]: r["customers"] for r in data[tile["marts.customer_rfm"]]}
        assert by_country == dict(marts("select country, count(*) from marts.customer_rfm group by 1"))

    # Superset read the column types and descriptions from the file.
    dataset = next(d for d in listing(superset, "dataset", ["id", "table_name"]) if d["table_name"] == "customer_segments")
    columns = {c["column_name"]: c for c in api(superset, "GET", f"dataset/{dataset['id']}")["result"]["columns"]}
    manifest = json.loads((sample_db.parent / "target" / "manifest.json").read_text())
    described = manifest["nodes"]["model.rfm_segments.customer_segments"]["columns"]["segment_name"]["description"]
    assert columns["segment_name"]["description"].strip() == described.strip()  # the doc block segment_name
    assert described.startswith("The cluster's name")
    assert columns["first_purchase_date"]["is_dttm"]


def test_the_connection_is_read_only_and_a_new_publication_shows_without_a_restart(superset, sample_db):
    server, _, _ = superset
    assert sql_lab(superset, "select distinct build_id from serving.publication")["data"] == [{"build_id": "first"}]
    refused = sql_lab(superset, "create table marts.scratch as select 1 as x")
    assert refused.get("status") != "success" and "data" not in refused  # Superset: DML not allowed
    # ... and the connection itself, as Superset stored it, cannot write (as root, mode 444 would not stop it)
    database = next(d for d in listing(superset, "database", ["id", "database_name"])
                    if d["database_name"] == dashboards.DATABASE_NAME)
    stored = api(superset, "GET", f"database/{database['id']}/connection")["result"]
    engine_params = json.loads(stored["extra"])["engine_params"]
    engine = sqlalchemy.create_engine(stored["sqlalchemy_uri"], **engine_params)
    try:
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"), engine.connect() as con:
            con.execute(sqlalchemy.text("create table marts.scratch as select 1 as x"))
    finally:
        engine.dispose()

    publish(sample_db, server.serving_database.parent, sample_db.parent / "target", build_id="second")  # what `make run` does
    assert sql_lab(superset, "select distinct build_id from serving.publication")["data"] == [{"build_id": "second"}]
    assert all(chart_data(superset).values())


def test_the_main_dashboard_draws_every_tile_in_chromium(superset, tmp_path):
    from playwright.sync_api import sync_playwright

    server, _, password = superset
    tiles = [tile.question for tile in dashboards.tiles(dashboards.load_spec()) if tile.dashboard == MAIN]
    console, outside = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: m.type == "error" and console.append(m.text))
            page.on("pageerror", lambda e: console.append(str(e)))

            def local_only(route):
                if route.request.url.startswith(server.url + "/"):
                    return route.continue_()
                outside.append(route.request.url)
                return route.abort()

            page.route("**/*", local_only)
            page.goto(f"{server.url}/login/")
            page.fill("#username", dashboards.ADMIN)
            page.fill("#password", password)
            page.click("[data-test=login-button]")
            page.wait_for_url("**/superset/welcome/**", timeout=60_000)
            page.goto(server.url + dashboards.dashboard_path(MAIN))
            # Drawn: an ECharts canvas or table rows in every tile, no spinner left.
            page.wait_for_function(
                """n => { const tiles = document.querySelectorAll('.dashboard-component-chart-holder');
                         return tiles.length === n && Array.from(tiles).every(t =>
                           t.querySelector('canvas, tbody tr') && !t.querySelector('.loading')); }""",
                arg=len(tiles), timeout=120_000)
            page.wait_for_timeout(1000)
            state = page.evaluate("""() => Array.from(document.querySelectorAll('.dashboard-component-chart-holder'))
                .map(t => ({title: t.querySelector('[data-test=editable-title]').textContent,
                            canvases: t.querySelectorAll('canvas').length, rows: t.querySelectorAll('tbody tr').length,
                            alert: (t.querySelector('[role=alert]') || {}).textContent || null}))""")
            filters = page.locator("[data-test=filter-bar]").inner_text()
            page.screenshot(path=str(tmp_path / "customer_segments.png"), full_page=True)
        finally:
            browser.close()
    assert [tile["title"] for tile in state] == tiles
    assert all(tile["canvases"] or tile["rows"] for tile in state) and not any(tile["alert"] for tile in state), state
    assert "K-Means segment" in filters and "RFM tier" in filters
    assert outside == []
    assert [message for message in console if not REFUSED_PIXEL.match(message)] == []
    assert (tmp_path / "customer_segments.png").stat().st_size > 50_000


def test_setting_up_again_keeps_one_copy_of_everything_and_sets_a_new_password(superset, monkeypatch):
    server, _, password = superset
    monkeypatch.setenv(dashboards.PASSWORD_ENV, "a-new-one")
    assert server.prepare(progress=lambda _: None) == "a-new-one"
    with pytest.raises(dashboards.DashboardError, match="could not log in"):
        server.session(password)
    server.import_dashboards(server.session("a-new-one"))
    spec = dashboards.load_spec()
    assert len(listing(superset, "dashboard", ["id"])) == len(spec)
    assert len(listing(superset, "chart", ["id"])) == len(list(dashboards.tiles(spec)))
    assert len(listing(superset, "dataset", ["id"])) == len({tile.table for tile in dashboards.tiles(spec)})
    assert len(listing(superset, "database", ["id"])) == 1
