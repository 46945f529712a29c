"""Faults: one line on stderr naming the cause and the fix, exit code 1, no traceback, and what
readers see unchanged."""
from __future__ import annotations

import codecs
import gzip
import os
import subprocess
import sys

import pytest

from conftest import REPO, build, run_pipeline
from hostile_files import HEADER, one_line_error, sample_rows, write_csv

SMALL = "InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n1,2011-01-01,7,3.5\n2,2011-01-02,8,4\n"
ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A built and published warehouse, and the file it came from."""
    folder = tmp_path_factory.mktemp("good")
    data = write_csv(folder / "good.csv", HEADER, sample_rows(3000))
    return build(folder, "--data", str(data)), data


def published_build(db) -> str:
    result = run_pipeline(db.parent, "query", "select build_id from serving.publication limit 1", db_name=db.name)
    assert result.returncode == 0, result.stderr
    return result.stdout


def write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


INPUT_FAULTS = {
    "truncated gzip": (lambda d: write_bytes(d / "cut.csv.gz", gzip.compress(SMALL.encode() * 200)[:-40]),
                       "cut.csv.gz is a damaged or truncated gzip file"),
    "corrupt gzip": (lambda d: write_bytes(d / "bad.csv.gz", b"\x1f\x8b\x08\x00" + b"\xff" * 200),
                     "bad.csv.gz is a damaged or truncated gzip file"),
    "UTF-16": (lambda d: write_bytes(d / "u16.csv", SMALL.encode("utf-16")),
               "u16.csv is UTF-16 text: save it as UTF-8"),
    "UTF-32": (lambda d: write_bytes(d / "u32.csv", codecs.BOM_UTF32_LE + SMALL.encode("utf-32-le")),
               "u32.csv is UTF-32 text: save it as UTF-8"),
    "UTF-16 without a byte-order mark": (lambda d: write_bytes(d / "nobom.csv", SMALL.encode("utf-16-le")),
                                          "nobom.csv has NUL bytes in its first lines"),
    "symlink loop": (lambda d: (os.symlink(d / "loop_b.csv", d / "loop_a.csv"),
                                os.symlink(d / "loop_a.csv", d / "loop_b.csv"), d / "loop_a.csv")[-1],
                     "loop_a.csv: symbolic link loop (fix or remove the link)"),
    "a trailing empty header name": (lambda d: write_bytes(d / "trail.csv", b"a,b,,\n"),
                                     "input file has no data rows, only a header"),
}


@pytest.mark.parametrize("case", list(INPUT_FAULTS))
def test_broken_input_is_one_line_and_changes_nothing(case, good, tmp_path):
    db, _ = good
    make, message = INPUT_FAULTS[case]
    before = published_build(db)
    line = one_line_error(run_pipeline(db.parent, "run", "--data", str(make(tmp_path)), db_name=db.name))
    assert message in line
    assert published_build(db) == before


def holder(db, read_only=True):
    """Another process with the warehouse open, as a notebook or DBeaver would hold it."""
    code = f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}, read_only={read_only}); print('open', flush=True); time.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "open"
    return process


def test_a_reader_holding_the_warehouse_is_named_with_its_pid(good, tmp_path):
    db, data = good
    before = published_build(db)
    reader = holder(db)
    try:
        line = one_line_error(run_pipeline(db.parent, "run", "--data", str(data), db_name=db.name))
    finally:
        reader.kill()
        reader.wait()
    assert f"the warehouse {db} is open in process {reader.pid} (" in line and "close it" in line
    assert published_build(db) == before


def test_a_second_concurrent_run_is_refused_in_one_line_and_the_first_finishes(good, tmp_path):
    db, data = good
    env = dict(os.environ, DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
    env.pop("SEGMENTS_SERVING_DIR", None)
    first = subprocess.Popen([sys.executable, "-m", "rfm_segments", "--db", str(db), "run", "--data", str(data)],
                             cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in first.stdout:
        if line.startswith("==> dbt build"):
            break
    second = run_pipeline(db.parent, "run", "--data", str(data), db_name=db.name)
    rest, errors = first.communicate(timeout=600)
    line = one_line_error(second)
    assert f"another run (process {first.pid}) is building {db}" in line
    assert first.returncode == 0, rest[-2000:] + errors[-2000:]


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    data = write_csv(tmp_path / "d.csv", HEADER, sample_rows(50))
    line = one_line_error(run_pipeline(blocker / "warehouse", "run", "--data", str(data)))
    assert f"cannot create the warehouse folder {blocker / 'warehouse'}: Not a directory" in line


@pytest.fixture()
def tmpfs(tmp_path):
    """A small tmpfs (root only): a read-only or a full disk without filling the real one."""
    if not ROOT:
        pytest.skip("mounting a tmpfs needs root")
    mounted = []

    def mount(name: str, options: str):
        path = tmp_path / name
        path.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_read_only_folder_is_one_line(tmpfs, tmp_path):
    folder = tmpfs("ro", "ro,size=1m")
    data = write_csv(tmp_path / "d.csv", HEADER, sample_rows(50))
    line = one_line_error(run_pipeline(folder, "run", "--data", str(data)))
    assert f"cannot write in the warehouse folder {folder}: Read-only file system" in line


def test_a_full_disk_during_the_build_is_one_line(tmpfs, tmp_path):
    folder = tmpfs("full", "size=3m")
    data = write_csv(tmp_path / "d.csv", HEADER, sample_rows(3000))
    line = one_line_error(run_pipeline(folder, "run", "--data", str(data)), dbt_ran=True)
    assert f"the disk holding {folder} is full" in line and "dbt.log" in line


def test_a_full_disk_at_publish_time_keeps_the_last_publication(tmpfs, tmp_path):
    serving = tmpfs("serving", "size=2m")
    data = write_csv(tmp_path / "d.csv", HEADER, sample_rows(3000))
    result = run_pipeline(tmp_path, "run", "--data", str(data), "--serving-dir", str(serving))
    line = one_line_error(result, dbt_ran=True)
    assert f"publishing failed: the disk holding {serving} is full" in line
    assert "nothing was published" in line


def test_trailing_empty_header_names_are_read_not_called_a_header_only_file(tmp_path):
    from rfm_segments import ingest

    path = write_bytes(tmp_path / "trail.csv", b"InvoiceNo,InvoiceDate,CustomerID,TotalPrice,,\n"
                                               b"1,2011-01-01,7,3.5,,\n2,2011-01-02,8,4,,\n")
    prepared = ingest.prepare(path)
    assert prepared.mapping["customer_id"] == "CustomerID" and prepared.dbt_vars["raw_file_lines"] == 3


def test_a_huge_first_field_does_not_trip_the_dialect_sniffer(tmp_path):
    from rfm_segments import ingest

    path = write_bytes(tmp_path / "wide.csv", b"InvoiceNo,InvoiceDate,CustomerID,TotalPrice\n"
                                              b"1,2011-01-01,7," + b"9" * 300_000 + b"\n2,2011-01-02,8,4\n")
    assert ingest.sniff_dialect(path, "utf-8")["raw_csv_delimiter"] == ","
