"""Apache Superset on the published data: the dashboards the exposures describe, in one command.

    python -m rfm_segments.superset_dashboards export [--out DIR]
        writes bi/superset/assets/ (Superset's export format: metadata.yaml, databases/,
        datasets/, charts/, dashboards/) from the one spec bi/superset/dashboards.yml
    python -m rfm_segments.superset_dashboards serve [--port 8088]      (what `make dashboard` runs)
        sets up Superset's home beside the warehouse (warehouse/superset/: metadata database,
        secret key, admin password), starts Superset on 127.0.0.1, imports the dashboards with a
        read-only connection to the serving file, prints the address and login, serves until Ctrl-C

This module runs in the project's environment and never imports Superset: Superset lives in its
own virtualenv (.venv-superset, bin/superset) and is driven through its CLI and REST API.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import requests
import yaml

from rfm_segments.publish import SERVING_FILE, serving_dir

REPO = Path(__file__).resolve().parents[2]
BI = REPO / "bi" / "superset"
SPEC = BI / "dashboards.yml"
ASSETS = BI / "assets"
EXPOSURES = REPO / "dbt_project" / "models" / "_exposures.yml"
CONFIG = BI / "superset_config.py"
DEFAULT_SUPERSET = REPO / ".venv-superset" / "bin" / "superset"
DEFAULT_PORT = 8088
PASSWORD_ENV = "SUPERSET_ADMIN_PASSWORD"
ADMIN = "admin"

DATABASE_NAME = "segments"
#: What the committed database file says; `serve` puts the real serving file's path there.
URI_PLACEHOLDER = "duckdb:////path/to/warehouse/serving/segments.duckdb"
EXPORT_VERSION = "1.0.0"
#: Fixed namespace so every object keeps its uuid across exports (reimports update, not duplicate).
NAMESPACE = uuid.UUID("6f0c4d52-1d3e-4b51-9a47-2a3e6f1c9b10")
RAW_ROW_LIMIT = 10_000
CHART_HEIGHT = 50
VIZ = {"table": "table", "bar": "echarts_timeseries_bar", "line": "echarts_timeseries_line",
       "heatmap": "heatmap_v2"}


class DashboardError(Exception):
    """Superset could not be set up or started; one line for the user, no traceback."""


def dashboard_slug(exposure: str) -> str:
    """customer_segments_dashboard -> customer-segments (the dashboard's address)."""
    return exposure.removesuffix("_dashboard").replace("_", "-")


def dashboard_path(exposure: str) -> str:
    return f"/superset/dashboard/{dashboard_slug(exposure)}/"


def _uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


# ------------------------------------------------------------------ spec -> Superset's export format


@dataclass(frozen=True)
class Tile:
    dashboard: str
    index: int
    spec: dict[str, Any]

    @property
    def question(self) -> str:
        return self.spec["question"]

    @property
    def table(self) -> str:
        return self.spec["table"]

    @property
    def uuid(self) -> str:
        return _uuid("chart", f"{self.dashboard}/{self.index}")


def load_spec(path: Path = SPEC) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())["dashboards"]


def load_exposures(path: Path = EXPOSURES) -> dict[str, dict[str, Any]]:
    return {exposure["name"]: exposure for exposure in yaml.safe_load(path.read_text())["exposures"]}


TILE_KEYS = {"question", "table", "chart", "columns", "groupby", "metrics", "x", "y", "grain", "where",
             "order_by", "width"}


def tiles(spec: dict[str, Any]) -> Iterator[Tile]:
    for dashboard, definition in spec.items():
        for index, tile in enumerate(definition["tiles"]):
            unknown = set(tile) - TILE_KEYS
            if unknown or tile.get("chart") not in VIZ or not {"question", "table"} <= set(tile):
                raise DashboardError(f"{SPEC.name}: {dashboard}, tile {index + 1}: needs question, table and "
                                     f"chart ({' | '.join(VIZ)}); unknown keys: {sorted(unknown) or 'none'}")
            yield Tile(dashboard, index, tile)


def _metric(label: str, sql: str) -> dict[str, Any]:
    return {"expressionType": "SQL", "sqlExpression": sql, "label": label, "hasCustomLabel": True,
            "optionName": f"metric_{label}"}


def _chart(tile: Tile, dataset_uuid: str) -> dict[str, Any]:
    """One chart in Superset's export format: form data (params) for the page, and the query
    context the chart data API (and CSV downloads, reports) runs."""
    t = tile.spec
    kind = t["chart"]
    metrics = [_metric(label, sql) for label, sql in t.get("metrics", {}).items()]
    where = [{"expressionType": "SQL", "clause": "WHERE", "sqlExpression": t["where"]}] if "where" in t else []
    params: dict[str, Any] = {"viz_type": VIZ[kind], "adhoc_filters": where, "time_range": "No filter"}
    query: dict[str, Any] = {"filters": [], "extras": {"where": f"({t['where']})" if where else "", "having": ""},
                             "time_range": "No filter", "metrics": metrics}
    order_by, direction = t.get("order_by", [None, "asc"])
    ascending = direction == "asc"
    if kind == "table":
        shown = t.get("columns", []) + list(t.get("metrics", {}))
        params.update(row_limit=RAW_ROW_LIMIT, page_length=20, include_search=True,
                      table_timestamp_format="%Y-%m-%d",  # the marts' time columns are dates
                      column_config={name: {"d3NumberFormat": ".1%"} for name in shown if name.endswith("share")})
        if "columns" in t:
            params.update(query_mode="raw", all_columns=t["columns"],
                          order_by_cols=[json.dumps([order_by, ascending])] if order_by else [])
            query.update(columns=t["columns"], metrics=[], orderby=[[order_by, ascending]] if order_by else [])
        else:
            by = next((m for m in metrics if m["label"] == order_by), None) or _metric(order_by, f"min({order_by})")
            params.update(query_mode="aggregate", groupby=t["groupby"], metrics=metrics,
                          timeseries_limit_metric=by, order_desc=not ascending)
            query.update(columns=t["groupby"], orderby=[[by, ascending]])
    elif kind == "heatmap":
        params.update(x_axis=t["x"], groupby=t["y"], metric=metrics[0], show_values=True,
                      sort_x_axis="alpha_asc", sort_y_axis="alpha_asc", linear_color_scheme="blue_white_yellow")
        query.update(columns=[t["x"], t["y"]])
    else:  # bar, line: one series per groupby value
        params.update(x_axis=t["x"], groupby=t.get("groupby", []), metrics=metrics, row_limit=RAW_ROW_LIMIT,
                      time_grain_sqla=t.get("grain"), stack="Stack" if kind == "bar" and "groupby" in t else None,
                      show_legend=True, rich_tooltip=True)
        axis = {"columnType": "BASE_AXIS", "expressionType": "SQL", "sqlExpression": t["x"], "label": t["x"],
                **({"timeGrain": t["grain"]} if "grain" in t else {})}
        query.update(columns=[axis, *t.get("groupby", [])], series_columns=t.get("groupby", []),
                     orderby=[[metrics[0], False]])
    query["row_limit"] = RAW_ROW_LIMIT
    context = {"datasource": {"type": "table"}, "force": False, "queries": [query],
               "result_format": "json", "result_type": "full"}
    return {"slice_name": tile.question, "description": f"Reads {t['table']} (published serving file).",
            "viz_type": VIZ[kind], "params": params, "query_context": json.dumps(context),
            "cache_timeout": None, "uuid": tile.uuid, "version": EXPORT_VERSION, "dataset_uuid": dataset_uuid}


def _position(title: str, dashboard_tiles: list[Tile]) -> dict[str, Any]:
    """Superset's layout tree: rows of tiles, 12 grid columns a row, in spec order."""
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": title}},
    }
    row: dict[str, Any] | None = None
    for tile in dashboard_tiles:
        width = tile.spec.get("width", 6)
        if row is None or row["used"] + width > 12:
            row = {"type": "ROW", "id": f"ROW-{len(position['GRID_ID']['children']) + 1}", "children": [],
                   "parents": ["ROOT_ID", "GRID_ID"], "meta": {"background": "BACKGROUND_TRANSPARENT"}, "used": 0}
            position[row["id"]] = row
            position["GRID_ID"]["children"].append(row["id"])
        chart_id = f"CHART-{tile.index + 1}"
        row["children"].append(chart_id)
        row["used"] += width
        position[chart_id] = {"type": "CHART", "id": chart_id, "children": [],
                              "parents": ["ROOT_ID", "GRID_ID", row["id"]],
                              "meta": {"uuid": tile.uuid, "chartId": tile.index + 1,  # replaced on import
                                       "sliceName": tile.question, "width": width,
                                       "height": CHART_HEIGHT}}
    for value in position.values():
        if isinstance(value, dict):
            value.pop("used", None)
    return position


def _native_filters(columns: dict[str, str], dataset_uuid: str) -> list[dict[str, Any]]:
    """Drop-downs (values from one table) filtering every tile whose table has the column."""
    return [{
        "id": f"NATIVE_FILTER-{column}", "name": name, "filterType": "filter_select", "type": "NATIVE_FILTER",
        "targets": [{"datasetUuid": dataset_uuid, "column": {"name": column}}],
        "controlValues": {"multiSelect": True, "enableEmptyFilter": False, "searchAllOptions": False,
                          "inverseSelection": False, "defaultToFirstItem": False},
        "defaultDataMask": {"filterState": {}, "extraFormData": {}, "ownState": {}},
        "cascadeParentIds": [], "scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "description": "",
    } for column, name in columns.items()]


def export_files(spec: dict[str, Any] | None = None, exposures: dict[str, dict] | None = None) -> dict[str, dict]:
    """Every file of the export bundle, path -> YAML document."""
    spec = load_spec() if spec is None else spec
    exposures = load_exposures() if exposures is None else exposures
    database_uuid = _uuid("database", DATABASE_NAME)
    files: dict[str, dict] = {
        "metadata.yaml": {"version": EXPORT_VERSION, "type": "assets", "timestamp": "2026-01-01T00:00:00+00:00"},
        f"databases/{DATABASE_NAME}.yaml": {
            "database_name": DATABASE_NAME, "sqlalchemy_uri": URI_PLACEHOLDER,
            "expose_in_sqllab": True, "allow_dml": False, "allow_ctas": False, "allow_cvas": False,
            "allow_run_async": False, "allow_csv_upload": False, "cache_timeout": None,
            # the serving file is replaced by every publication: open it read-only, per query
            "extra": {"engine_params": {"connect_args": {"read_only": True}}, "allows_virtual_table_explore": True},
            "uuid": database_uuid, "version": EXPORT_VERSION,
        },
    }
    datasets: dict[str, str] = {}
    for tile in tiles(spec):
        if tile.table not in datasets:
            schema, table = tile.table.split(".")
            datasets[tile.table] = _uuid("dataset", tile.table)
            # No columns listed: `serve` has Superset read them (types, descriptions) from the file.
            files[f"datasets/{DATABASE_NAME}/{schema}.{table}.yaml"] = {
                "table_name": table, "schema": schema, "uuid": datasets[tile.table],
                "database_uuid": database_uuid, "version": EXPORT_VERSION,
            }
        files[f"charts/{tile.dashboard}/{tile.index + 1:02d}.yaml"] = _chart(tile, datasets[tile.table])
    for dashboard, definition in spec.items():
        exposure = exposures[dashboard]
        dashboard_tiles = [tile for tile in tiles(spec) if tile.dashboard == dashboard]
        files[f"dashboards/{dashboard}.yaml"] = {
            "dashboard_title": exposure["label"], "description": " ".join(exposure["description"].split()),
            "slug": dashboard_slug(dashboard), "uuid": _uuid("dashboard", dashboard), "published": True,
            "position": _position(exposure["label"], dashboard_tiles),
            "metadata": {"native_filter_configuration": [
                native for table, columns in definition.get("filters", {}).items()
                for native in _native_filters(columns, datasets[table])],
                         "color_scheme": "supersetColors", "cross_filters_enabled": False},
            "version": EXPORT_VERSION,
        }
    return files


def dump(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def write_assets(out: Path = ASSETS) -> list[Path]:
    """Rewrites `out` from the spec (files no longer in the spec are removed)."""
    files = export_files()
    for old in sorted(out.rglob("*.yaml")) if out.exists() else []:
        if str(old.relative_to(out)) not in files:
            old.unlink()
    written = []
    for name, document in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Generated by `python -m rfm_segments.superset_dashboards export` from "
                        "bi/superset/dashboards.yml: edit that file.\n" + dump(document))
        written.append(path)
    return written


def bundle(serving_database: Path, assets: Path = ASSETS) -> bytes:
    """The committed assets as the ZIP Superset imports, connected to `serving_database`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(assets.rglob("*.yaml")):
            name = path.relative_to(assets).as_posix()
            text = path.read_text()
            if name.startswith("databases/"):
                document = yaml.safe_load(text)
                document["sqlalchemy_uri"] = f"duckdb:///{serving_database.resolve()}"
                text = dump(document)
            archive.writestr(f"segments_dashboards/{name}", text)
    return buffer.getvalue()


# ------------------------------------------------------------------ running Superset


@dataclass
class Superset:
    """A Superset home (metadata database, secret key, password) and the server on it."""
    home: Path
    serving_database: Path
    port: int = DEFAULT_PORT
    executable: Path = DEFAULT_SUPERSET
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "superset.log"

    def env(self) -> dict[str, str]:
        return dict(os.environ, SUPERSET_HOME=str(self.home), SUPERSET_CONFIG_PATH=str(CONFIG),
                    FLASK_APP="superset", PYTHONWARNINGS="ignore")

    def cli(self, *args: str, stdin: str | None = None) -> str:
        with open(self.log, "a") as log:
            log.write(f"\n$ superset {' '.join(args)}\n")
            log.flush()
            result = subprocess.run([str(self.executable), *args], env=self.env(), input=stdin, text=True,
                                    stdout=subprocess.PIPE, stderr=log)
        with open(self.log, "a") as log:
            log.write(result.stdout)
        if result.returncode != 0:
            raise DashboardError(f"`superset {args[0]}` failed (log: {self.log})")
        return result.stdout

    def password(self) -> str:
        """$SUPERSET_ADMIN_PASSWORD, else the stored one, else a new one; stored beside the metadata db."""
        stored = self.home / "admin_password"
        chosen = os.environ.get(PASSWORD_ENV) or (stored.read_text().strip() if stored.exists() else "")
        chosen = chosen or secrets.token_urlsafe(12)
        stored.write_text(chosen + "\n")
        stored.chmod(0o600)
        return chosen

    def prepare(self, progress=print) -> str:
        """Metadata database, roles and the admin user; idempotent. Returns the admin password."""
        if not self.executable.exists():
            raise DashboardError(f"Superset is not installed at {self.executable}: run `make dashboard`")
        if not self.serving_database.exists():
            raise DashboardError(f"nothing is published at {self.serving_database}: run `make run` first")
        self.home.mkdir(parents=True, exist_ok=True)
        key = self.home / "secret_key"
        if not key.exists():
            key.write_text(secrets.token_urlsafe(42) + "\n")
            key.chmod(0o600)
        password = self.password()
        progress(f"==> Superset metadata database in {self.home} (first time: about a minute)")
        self.cli("db", "upgrade")
        existing = self.cli("fab", "list-users")
        if f"username:{ADMIN}" in existing.replace(" ", ""):
            self.cli("fab", "reset-password", "--username", ADMIN, stdin=f"{password}\n{password}\n")
        else:
            self.cli("fab", "create-admin", "--username", ADMIN, "--firstname", "Admin", "--lastname", "User",
                     "--email", "admin@localhost", stdin=f"{password}\n{password}\n")
        self.cli("init")
        return password

    def start(self, progress=print, timeout: float = 180) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise DashboardError(f"port {self.port} is in use: stop what runs there, "
                                     "or choose another with SUPERSET_PORT=...")
        progress(f"==> starting Superset on {self.url}")
        log = open(self.log, "a")
        self.process = subprocess.Popen(
            [str(self.executable), "run", "-h", "127.0.0.1", "-p", str(self.port), "--with-threads"],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DashboardError(f"Superset stopped while starting (log: {self.log})")
            try:
                if requests.get(f"{self.url}/health", timeout=2).text.strip() == "OK":
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        self.stop()
        raise DashboardError(f"Superset did not answer on {self.url} within {timeout:.0f} s (log: {self.log})")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def session(self, password: str) -> requests.Session:
        """A logged-in API session (bearer token + CSRF token)."""
        session = requests.Session()
        response = session.post(f"{self.url}/api/v1/security/login", timeout=30,
                                json={"username": ADMIN, "password": password, "provider": "db", "refresh": True})
        if response.status_code != 200:
            raise DashboardError(f"could not log in to Superset as {ADMIN} ({response.status_code})")
        session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        csrf = session.get(f"{self.url}/api/v1/security/csrf_token/", timeout=30).json()["result"]
        session.headers.update({"X-CSRFToken": csrf, "Referer": self.url})
        return session

    def import_dashboards(self, session: requests.Session) -> None:
        """Imports (overwriting) database, datasets, charts and dashboards, then has Superset read
        every dataset's columns from the serving file (types, time columns, descriptions)."""
        response = session.post(f"{self.url}/api/v1/assets/import/", timeout=300,
                                files={"bundle": ("segments_dashboards.zip", bundle(self.serving_database))})
        if response.status_code != 200:
            raise DashboardError(f"importing the dashboards failed: {response.text[:500]}")
        wanted = {document["uuid"] for name, document in _committed_assets().items() if name.startswith("datasets/")}
        query = json.dumps({"columns": ["id", "uuid"], "page_size": 100})
        datasets = session.get(f"{self.url}/api/v1/dataset/", params={"q": query}, timeout=30).json()["result"]
        for dataset in datasets:
            if dataset["uuid"] in wanted:
                refreshed = session.put(f"{self.url}/api/v1/dataset/{dataset['id']}/refresh", timeout=120)
                if refreshed.status_code != 200:
                    raise DashboardError(f"Superset could not read the columns of dataset {dataset['id']}: "
                                         f"{refreshed.text[:300]}")


def _committed_assets(assets: Path = ASSETS) -> dict[str, dict]:
    return {path.relative_to(assets).as_posix(): yaml.safe_load(path.read_text())
            for path in sorted(assets.rglob("*.yaml"))}


def superset_home(db: Path) -> Path:
    """Superset's metadata lives beside the warehouse: warehouse/superset/."""
    return Path(db).resolve().parent / "superset"


def serve(db: Path, port: int, executable: Path, wait: bool = True) -> Superset:
    serving = serving_dir(db) / SERVING_FILE
    superset = Superset(superset_home(db), serving, port, executable)
    password = superset.prepare()
    superset.start()
    try:
        print("==> importing the dashboards (bi/superset/assets)")
        superset.import_dashboards(superset.session(password))
    except BaseException:
        superset.stop()
        raise
    exposures = load_exposures()
    print(f"\nSuperset is serving the published data ({serving}, read-only):")
    for dashboard in load_spec():
        print(f"  {exposures[dashboard]['label']:<26} {superset.url}{dashboard_path(dashboard)}")
    print(f"  log in as {ADMIN} / {password}  (stored in {superset.home / 'admin_password'}; "
          f"set {PASSWORD_ENV} to choose it)")
    if wait:
        print("Ctrl-C stops Superset. `make run` may rebuild meanwhile: the dashboards show the new "
              "publication on their next refresh.")
        try:
            superset.process.wait()
        except KeyboardInterrupt:
            superset.stop()
            print("\nSuperset stopped; `make dashboard` starts it again with the same login.")
    return superset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rfm_segments.superset_dashboards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write bi/superset/assets/ from bi/superset/dashboards.yml")
    export.add_argument("--out", default=str(ASSETS))
    run = commands.add_parser("serve", help="set up, start Superset, import the dashboards")
    run.add_argument("--db", default=os.environ.get("SEGMENTS_DB") or str(REPO / "warehouse" / "segments.duckdb"))
    run.add_argument("--port", type=int, default=int(os.environ.get("SUPERSET_PORT") or DEFAULT_PORT))
    run.add_argument("--superset", default=str(DEFAULT_SUPERSET), help="the superset command of its virtualenv")
    options = parser.parse_args(argv)
    try:
        if options.command == "export":
            written = write_assets(Path(options.out))
            print(f"wrote {len(written)} files to {options.out}")
        else:
            serve(Path(options.db), options.port, Path(options.superset))
    except DashboardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except requests.RequestException as error:
        print(f"error: Superset stopped answering ({type(error).__name__}); see warehouse/superset/superset.log",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
