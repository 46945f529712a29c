"""`run --engine spark --data <path>`: a path only the cluster reads skips the local preflight
and becomes var raw_path as given (docs/spark.md "Pointing it at a cluster")."""
from __future__ import annotations

import pytest

from rfm_segments.spark_engine import cluster_input_vars, is_cluster_path


@pytest.mark.parametrize("path, on_cluster", [
    ("s3a://bucket/lines.csv", True), ("abfss://c@account.dfs.core.windows.net/lines.parquet", True),
    ("hdfs:///data/lines.csv", True), ("dbfs:/mnt/lines.csv", True),
    ("/tmp/lines.csv", False), ("lines.csv", False), ("file:///tmp/lines.csv", False), ("C:/data/lines.csv", False),
])
def test_cluster_paths_are_told_from_local_files(path, on_cluster):
    assert is_cluster_path(path) is on_cluster


def test_cluster_input_maps_to_the_same_vars_as_a_local_file():
    assert cluster_input_vars("s3a://b/l.csv", "customer_id=cust_no", "%d/%m/%Y") == {
        "raw_path": "s3a://b/l.csv", "raw_columns": "customer_id=cust_no", "raw_date_format": "%d/%m/%Y"}
    assert cluster_input_vars("s3a://b/l.csv", None, None) == {"raw_path": "s3a://b/l.csv"}

