"""Publishing: copy the BI-facing tables out of the file dbt writes, after a build that passed.

Why a copy: DuckDB allows one writer per file, and a reader in another process blocks it
("Could not set lock on file"), so BI tools must never open the file dbt writes. After
`dbt build` succeeds (every data and unit test passed), `publish` writes into the serving
folder (default: `serving/` next to the warehouse file, or $SEGMENTS_SERVING_DIR):

    segments.duckdb                  every model with `access: public` in dbt's manifest
                                     (rfm_segments.bi_registry), with their descriptions as
                                     comments; in the storage version of the dbt profile
                                     (v1.4.0), so DuckDB 1.4.0 and later (what BI drivers bundle) open it
    parquet/<table>.parquet          the same tables, one Parquet file each
    parquet/_publication.parquet     = table serving.publication: the build id, when, and per
                                     table its rows and a content checksum

Nothing is ever changed in place, so a reader sees the old publication or the new one, never
half of one:
- the DuckDB file is written to a temporary file in the same folder, checked against the
  build, and renamed over the old one (os.replace). A reader that has the old file open keeps
  reading it (POSIX keeps an unlinked file alive while it is open); new connections get the
  new file.
- the Parquet files are written into a new folder parquet-versions/<build id>/, and the
  symlink `parquet` is switched to it with one rename, so all files change together. The
  previous version stays for readers still on it; older ones are deleted.
Linux and macOS. On Windows a file that a BI tool has open cannot be replaced, nor a symlink
made without extra rights; publishing then stops with an error and the old files stay.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb
import yaml

from rfm_segments import bi_registry
from rfm_segments.sql_quoting import quote_identifier as _ident, quote_literal as _literal

#: The dbt profile, whose storage_compatibility_version the serving file is written in too.
DBT_PROFILE = Path(__file__).resolve().parents[2] / "dbt_project" / "profiles.yml"
SERVING_FILE = "segments.duckdb"
PARQUET_LINK = "parquet"
PARQUET_VERSIONS = "parquet-versions"
PUBLICATION_TABLE = "publication"  # in schema `serving`; `_publication.parquet` in Parquet
SERVING_DIR_ENV = "SEGMENTS_SERVING_DIR"


class PublishError(Exception):
    """Publishing could not finish; the files BI reads are unchanged. One line, no traceback."""


@dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    rows: int
    checksum: str  # sum of DuckDB's hash() of every row: order-independent, cheap to recheck


@dataclass(frozen=True)
class Publication:
    build_id: str
    published_at: datetime
    database: Path
    parquet: Path
    tables: tuple[PublishedTable, ...]

    def describe(self) -> str:
        """What `make run` prints: where BI reads, and that it is this build."""
        when = self.published_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            f"Published for BI at {when} (build {self.build_id}, {len(self.tables)} tables):\n"
            f"  DuckDB file (open read-only, DuckDB 1.4+): {self.database}\n"
            f"  Parquet, one file per table:               {self.parquet}/<table>.parquet\n"
            f"  Dashboards in Apache Superset:             make dashboard (docs/serving-bi.md)"
        )


def serving_dir(db: Path, override: str | os.PathLike[str] | None = None) -> Path:
    """The folder BI reads: `override`, else $SEGMENTS_SERVING_DIR, else `serving/` beside `db`."""
    chosen = override or os.environ.get(SERVING_DIR_ENV) or Path(db).resolve().parent / "serving"
    return Path(chosen).resolve()


def storage_version(profile: Path = DBT_PROFILE) -> str:
    """The oldest DuckDB storage format the files must stay readable by (most BI drivers bundle
    DuckDB 1.4 or 1.5): config_options.storage_compatibility_version of the dbt profile, so the
    warehouse dbt writes and the copy BI reads are defined in one place."""
    outputs = yaml.safe_load(profile.read_text())["rfm_segments"]["outputs"]
    return outputs["dev"]["config_options"]["storage_compatibility_version"]


def publish(build_db: Path, serving: Path, manifest: Path, build_id: str | None = None,
            dbt_invocation_id: str | None = None) -> Publication:
    """Copies the public models (`access: public` in `manifest`, dbt's manifest.json or the
    target folder holding it) from `build_db` to `serving`, replacing the last publication
    atomically. Call only after a successful `dbt build`. Raises PublishError."""
    try:
        models = bi_registry.public_models(manifest)
    except bi_registry.RegistryError as error:
        raise PublishError(str(error)) from None
    build_db, serving = Path(build_db).resolve(), Path(serving).resolve()
    if serving == build_db.parent and SERVING_FILE == build_db.name:
        raise PublishError(f"the serving folder {serving} would overwrite the dbt warehouse file")
    serving.mkdir(parents=True, exist_ok=True)
    published_at = datetime.now(timezone.utc).replace(microsecond=0)
    build_id = build_id or f"{published_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    with _publish_lock(serving):
        _remove_leftovers(serving)
        try:
            return _publish(build_db, serving, models, build_id, published_at, dbt_invocation_id)
        except (duckdb.Error, OSError) as error:
            if _disk_full(serving, error):  # DuckDB says only "CHECKPOINT during DETACH failed"
                raise PublishError(f"publishing failed: the disk holding {serving} is full "
                                   f"({shutil.disk_usage(serving).free:,} bytes free); free space and run again") from None
            if isinstance(error, duckdb.Error):
                raise PublishError(f"publishing failed: {str(error).splitlines()[0]}") from None
            hint = " (on Windows, close the BI tools that have it open)" if os.name == "nt" else ""
            raise PublishError(f"publishing failed: {error}{hint}") from None
        finally:
            _remove_leftovers(serving)  # after a failure: the half-written copies


def last_publication(serving: Path) -> tuple[str, datetime] | None:
    """(build id, published at) of what BI reads now, or None when nothing was published."""
    database = Path(serving) / SERVING_FILE
    if not database.exists():
        return None
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            row = con.execute(
                f"select build_id, published_at from serving.{PUBLICATION_TABLE} limit 1"
            ).fetchone()
    except duckdb.Error:
        return None
    return (row[0], row[1].replace(tzinfo=timezone.utc)) if row else None


def kept_note(serving: Path) -> str:
    """For a failed build: says which data BI keeps."""
    last = last_publication(serving)
    if last is None:
        return f"nothing was published to {serving}"
    build_id, when = last
    return (f"BI keeps the data published at {when:%Y-%m-%d %H:%M:%S} UTC "
            f"(build {build_id}) in {serving}")


def dbt_invocation_id(target_dir: Path) -> str | None:
    """The invocation id in dbt's run_results.json, so a publication names the build it came from."""
    try:
        return json.loads((Path(target_dir) / "run_results.json").read_text())["metadata"]["invocation_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _publish(build_db: Path, serving: Path, models: tuple[bi_registry.PublicModel, ...], build_id: str,
             published_at: datetime, dbt_invocation_id: str | None) -> Publication:
    database = serving / SERVING_FILE
    versions = serving / PARQUET_VERSIONS
    versions.mkdir(exist_ok=True)
    temp_database = serving / f".{SERVING_FILE}.{build_id}.tmp"
    temp_parquet = versions / f".{build_id}.tmp"
    temp_parquet.mkdir()

    con = duckdb.connect()
    try:
        con.execute(f"attach {_literal(build_db)} as build (read_only)")
        tables = _tables_to_publish(con, models)
        published = tuple(_fingerprint(con, "build", schema, name) for schema, name, _ in tables)

        con.execute(f"attach {_literal(temp_database)} as fresh (storage_version {_literal(storage_version())})")
        for schema in sorted({schema for schema, _, _ in tables}):
            con.execute(f"create schema fresh.{_ident(schema)}")
        for schema, name, comment in tables:
            target = f"fresh.{_ident(schema)}.{_ident(name)}"
            con.execute(f"create table {target} as select * from build.{_ident(schema)}.{_ident(name)}")
            _copy_comments(con, schema, name, comment, target)
        _write_publication(con, build_id, published_at, dbt_invocation_id, published)

        kv = f"{{build_id: {_literal(build_id)}, published_at: {_literal(published_at.isoformat())}}}"
        for schema, name, _ in tables:
            con.execute(
                f"copy (select * from build.{_ident(schema)}.{_ident(name)}) "
                f"to {_literal(temp_parquet / f'{name}.parquet')} (format parquet, kv_metadata {kv})"
            )
        con.execute(
            f"copy (select * from fresh.serving.{PUBLICATION_TABLE}) "
            f"to {_literal(temp_parquet / f'_{PUBLICATION_TABLE}.parquet')} (format parquet, kv_metadata {kv})"
        )
        # Check both copies against the build before anyone can see them.
        for table in published:
            _check_copy(table, _fingerprint(con, "fresh", table.schema, table.name), temp_database)
            parquet_copy = _fingerprint_query(con, f"read_parquet({_literal(temp_parquet / f'{table.name}.parquet')})")
            _check_copy(table, PublishedTable(table.schema, table.name, *parquet_copy), temp_parquet)
        con.execute("detach fresh")  # checkpoints: the file is complete on disk
    finally:
        con.close()

    for path in [temp_database, *temp_parquet.iterdir()]:
        _fsync(path)
    temp_database.chmod(0o444)  # a BI tool that forgets read-only mode gets an error, not a lock
    version = versions / build_id
    os.replace(temp_parquet, version)

    # Both new sets are complete: switch them back to back.
    previous = _link_target(serving / PARQUET_LINK)
    temp_link = serving / f".{PARQUET_LINK}.{build_id}.tmp"
    os.symlink(Path(PARQUET_VERSIONS) / build_id, temp_link, target_is_directory=True)
    os.replace(temp_link, serving / PARQUET_LINK)
    _remove_if_exists(serving / f"{SERVING_FILE}.wal")  # a WAL of the old file must not replay onto the new one
    os.replace(temp_database, database)
    _fsync(serving)

    keep = {build_id, previous.name if previous else None}
    for old in versions.iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    return Publication(build_id, published_at, database, serving / PARQUET_LINK, published)


def _disk_full(folder: Path, error: Exception) -> bool:
    if "No space left" in str(error) or getattr(error, "errno", None) == 28:  # ENOSPC
        return True
    try:  # after the failure the temporary copies are still there, filling the disk
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def _tables_to_publish(con: duckdb.DuckDBPyConnection,
                       models: tuple[bi_registry.PublicModel, ...]) -> list[tuple[str, str, str | None]]:
    if not models:
        raise PublishError("no dbt model has `access: public`: nothing to publish")
    comments = {
        (schema, name): comment
        for schema, name, comment in con.execute(
            "select schema_name, table_name, comment from duckdb_tables() where database_name = 'build'"
        ).fetchall()
    }
    missing = [model.relation for model in models if (model.schema, model.name) not in comments]
    if missing:
        raise PublishError(f"the warehouse has no table {', '.join(missing)} (public in dbt's manifest): "
                           "run a full `dbt build` first")
    tables = [(model.schema, model.name, comments[model.schema, model.name]) for model in models]
    names = [name for _, name, _ in tables]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:  # Parquet files are named by table alone
        raise PublishError(f"tables with the same name in two published schemas: {', '.join(clashes)}")
    return tables


def _copy_comments(con: duckdb.DuckDBPyConnection, schema: str, name: str,
                   comment: str | None, target: str) -> None:
    """dbt's persist_docs wrote the descriptions as comments; CREATE TABLE AS drops them."""
    if comment:
        con.execute(f"comment on table {target} is {_literal(comment)}")
    for column, column_comment in con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = 'build' and schema_name = ? and table_name = ? and comment <> ''",
        [schema, name],
    ).fetchall():
        con.execute(f"comment on column {target}.{_ident(column)} is {_literal(column_comment)}")


def _write_publication(con: duckdb.DuckDBPyConnection, build_id: str, published_at: datetime,
                       dbt_invocation_id: str | None, tables: tuple[PublishedTable, ...]) -> None:
    con.execute("create schema fresh.serving")
    con.execute(f"""
        create table fresh.serving.{PUBLICATION_TABLE} (
            build_id varchar not null,
            published_at timestamp not null,
            dbt_invocation_id varchar,
            table_schema varchar not null,
            table_name varchar not null,
            row_count bigint not null,
            checksum varchar not null
        )""")
    con.executemany(
        f"insert into fresh.serving.{PUBLICATION_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
        [[build_id, published_at.replace(tzinfo=None), dbt_invocation_id, t.schema, t.name, t.rows, t.checksum] for t in tables],
    )
    target = f"fresh.serving.{PUBLICATION_TABLE}"
    con.execute(f"comment on table {target} is 'What this file holds: one row per published table, "
                "all from one dbt build whose tests all passed.'")
    for column, text in {
        "build_id": "Id of the publication; the same in every row and in every Parquet file's metadata.",
        "published_at": "When the tables were published, in UTC.",
        "dbt_invocation_id": "The dbt build they come from (invocation_id in dbt's run_results.json).",
        "table_schema": "Schema of the published table.",
        "table_name": "Published table; its Parquet file is <table_name>.parquet.",
        "row_count": "Rows in the table.",
        "checksum": "Sum of DuckDB hash() over the rows: recompute it to check a copy is complete.",
    }.items():
        con.execute(f"comment on column {target}.{column} is {_literal(text)}")


def _fingerprint(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> PublishedTable:
    rows, checksum = _fingerprint_query(con, f"{catalog}.{_ident(schema)}.{_ident(name)}")
    return PublishedTable(schema, name, rows, checksum)


def _fingerprint_query(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    rows, checksum = con.execute(
        f"select count(*), coalesce(sum(hash(t)), 0)::varchar from {relation} as t"
    ).fetchone()
    return rows, checksum


def _check_copy(expected: PublishedTable, actual: PublishedTable, where: Path) -> None:
    if (actual.rows, actual.checksum) != (expected.rows, expected.checksum):
        raise PublishError(f"the copy of {expected.schema}.{expected.name} in {where} does not match the build")


@contextmanager
def _publish_lock(serving: Path) -> Iterator[None]:
    """One publisher at a time per serving folder (readers never take it)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; two concurrent runs are the user's call
        yield
        return
    with open(serving / ".publish.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(f"another run is publishing to {serving}; try again when it ends") from None
        yield


def _remove_leftovers(serving: Path) -> None:
    """Temporary files of a publish that was killed; harmless, but they take space."""
    for pattern in (".*.tmp", ".*.tmp.wal", f"{PARQUET_VERSIONS}/.*.tmp"):
        for leftover in serving.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                _remove_if_exists(leftover)


def _link_target(link: Path) -> Path | None:
    if link.is_symlink():
        return Path(os.readlink(link))
    if link.exists():
        raise PublishError(f"{link} should be a symlink to the current Parquet version; move it away")
    return None


def _remove_if_exists(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _fsync(path: Path) -> None:
    """Data on disk before the rename makes it visible, so a power cut cannot publish a stub."""
    if os.name == "nt" and path.is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

