"""Local Spark servers for trying the cluster targets on one machine (docs/spark.md), from the
scripts and jars of the pip pyspark package (the `.[spark]` extra):

    python -m rfm_segments.spark_servers connect --port 15002 --dir warehouse/spark-connect
    python -m rfm_segments.spark_servers thrift --port 10000 --dir warehouse/spark-thrift
    python -m rfm_segments.spark_servers thrift --port 10000 --connect-port 15002   # both, one Spark

Each runs in the foreground until Ctrl-C, with its Hive catalog (Derby) and tables under --dir.
The tests and `make bench ENGINE=spark` start them the same way (`start`).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: The server classes pyspark's jars hold (spark-connect_*.jar, spark-hive-thriftserver_*.jar).
SERVER_CLASSES = {
    "connect": "org.apache.spark.sql.connect.service.SparkConnectServer",
    "thrift": "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
}
DEFAULT_PORTS = {"connect": 15002, "thrift": 10000}


class ServerError(Exception):
    """The server did not start; one line naming its log."""


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(kind: str, port: int, work: Path, driver_memory: str = "3g", connect_port: int | None = None) -> list[str]:
    """spark-submit of the server class, its catalog and warehouse under `work`, times in UTC.
    A Thrift server with `connect_port` also serves Spark Connect (its plugin): one Spark, one
    catalog, both protocols."""
    conf = {
        "spark.sql.warehouse.dir": str(work / "tables"),
        "spark.sql.catalogImplementation": "hive",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={work / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.stream.error.file={work / 'derby.log'}",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        # one machine: a few shuffle partitions (Spark's 200 are tasks mostly empty), as the local target
        "spark.sql.shuffle.partitions": os.environ.get("SEGMENTS_SPARK_SHUFFLE_PARTITIONS", "8"),
    }
    if kind == "connect":
        conf["spark.connect.grpc.binding.port"] = str(port)
    elif connect_port:
        conf["spark.plugins"] = "org.apache.spark.sql.connect.SparkConnectPlugin"
        conf["spark.connect.grpc.binding.port"] = str(connect_port)
    args = [str(spark_home() / "bin" / "spark-submit"), "--class", SERVER_CLASSES[kind],
            "--name", f"rfm_segments {kind} server", "--driver-memory", driver_memory]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    if kind == "thrift":
        args += ["--hiveconf", f"hive.server2.thrift.port={port}", "--hiveconf", "hive.server2.thrift.bind.host=localhost",
                 "spark-internal"]
    return args


@dataclass
class Server:
    kind: str
    port: int
    work: Path
    process: subprocess.Popen
    connect_port: int | None = None

    @property
    def url(self) -> str:
        return f"sc://localhost:{self.port}" if self.kind == "connect" else f"localhost:{self.port}"

    @property
    def connect_url(self) -> str:
        """SPARK_REMOTE of the server's Spark Connect endpoint."""
        return f"sc://localhost:{self.port if self.kind == 'connect' else self.connect_port}"

    @property
    def log(self) -> Path:
        return self.work / "server.log"

    def stop(self) -> None:
        """Ends the server's own process group (spark-submit and its JVM), nothing else."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(kind: str, work: Path, port: int | None = None, timeout_s: float = 300,
          connect_port: int | None = None) -> Server:
    """Starts a server and waits until its port (and `connect_port`, see `command`) accepts connections."""
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = dict(os.environ, SPARK_HOME=str(spark_home()))
    env.pop("SPARK_REMOTE", None)  # the server is the cluster, not a client of one
    with open(work / "server.log", "w") as log:
        process = subprocess.Popen(command(kind, port, work, connect_port=connect_port), cwd=work, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(kind, port, work, process, connect_port)
    waiting = [port, *([connect_port] if connect_port else [])]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the Spark {kind} server stopped (exit {process.returncode}); its log: {server.log}")
        try:
            for listening in waiting:
                socket.create_connection(("localhost", listening), timeout=1).close()
            return server
        except OSError:
            time.sleep(1)
    server.stop()
    raise ServerError(f"the Spark {kind} server did not listen on port {port} within {timeout_s:.0f} s; its log: {server.log}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(SERVER_CLASSES))
    parser.add_argument("--port", type=int, help="default: 15002 (connect), 10000 (thrift)")
    parser.add_argument("--dir", type=Path, help="catalog and tables (default: warehouse/spark-<kind>)")
    parser.add_argument("--connect-port", type=int, help="thrift only: also serve Spark Connect on this port")
    options = parser.parse_args(argv)
    work = options.dir or Path("warehouse") / f"spark-{options.kind}"
    try:
        server = start(options.kind, work, options.port or DEFAULT_PORTS[options.kind],
                       connect_port=options.connect_port if options.kind == "thrift" else None)
    except ServerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    variable = "SPARK_REMOTE" if options.kind == "connect" else "SEGMENTS_SPARK_THRIFT_HOST/_PORT"
    if server.connect_port:
        variable += f", and Spark Connect at {server.connect_url} (SPARK_REMOTE)"
    print(f"Spark {options.kind} server at {server.url} ({variable}); catalog and tables in {server.work}; "
          f"log {server.log}. Ctrl-C stops it.", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
