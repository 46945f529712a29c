"""What every Spark test shares (fixtures in tests/conftest.py):

- fixture `spark_server`: one local Spark (rfm_segments.spark_servers) for the test session,
  serving both Spark Connect (SPARK_REMOTE, profile target spark_connect) and Thrift (target
  spark_thrift) from one JVM and one catalog: the cluster targets of docs/spark.md.
- fixture `spark_run`: `python -m rfm_segments run --engine spark` through Spark Connect on the
  small inputs below (every model with its tests, the Python models as steps, staged and
  published for BI, the summary and the report): `make run ENGINE=spark` against a cluster.
- fixture `duckdb_run`: `python -m rfm_segments run` (DuckDB) on the same inputs and run date.

The inputs (fixtures spark_raw_file, spark_crm_file): every LINE_STEP-th line of the shared
Online Retail sample (its whole date range, so history and CLV have snapshots) plus two
malformed lines and a text customer id ending in zeros, and a generated customer attributes
file with a duplicated id, a row without one, an unknown id and a malformed line.
"""

RUN_DATE = "2026-01-01"
#: Every LINE_STEP-th line of the shared 30,000-line sample.
LINE_STEP = 3
#: Lines added to the sample: two the CSV reader cannot split, and a valid sale by a customer
#: whose id is text ending in zeros ('12900': a backslash regex makes it '12' on Spark).
MALFORMED_LINES = [
    "581999,22111,TOO MANY FIELDS,1,2011-06-01 10:00:00,1.25,12999.0,United Kingdom,extra,fields",
    "582000,22112,TOO FEW FIELDS",
]
TEXT_ID_SALE = "582001,22113,TEXT CUSTOMER ID,2,2011-11-30 12:00:00,3.35,12900,United Kingdom"
#: Rows appended to the generated customer attributes file: a duplicated id (every copy
#: quarantined), a row without an id and an id with no sale (reported), and text a quote breaks.
CRM_EXTRA_ROWS = [["12347", 40, "F", "teacher", 30000, "north", "yes"],
                  ["", 50, "M", "artist", 20000, "south", "no"],
                  ["99999", 60, "M", "children's nurse", 20000, "south, east", "no"]]
#: A customer attributes line with too many fields (quarantined as malformed_line).
CRM_MALFORMED_LINE = "12348,41,F,teacher,31000,north,yes,one too many"
