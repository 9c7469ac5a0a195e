"""Throwaway Spark servers on 127.0.0.1 started from the pyspark installation's `spark-class`
(for tests and benchmarks): a standalone cluster (one master, one worker), and a Spark Connect
server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.postgres import free_port


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@dataclass
class SparkCluster:
    """`master_url` is what computes.yml's `master:` takes; `stop()` ends both processes."""

    master_port: int
    web_port: int
    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @classmethod
    def start(cls, cores: int = 2, memory: str = "2g", timeout: float = 90) -> SparkCluster:
        cluster = cls(free_port(), free_port(), Path(tempfile.mkdtemp(prefix="dvt-spark-")))
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_WORKER_DIR": str(cluster.folder / "work"),
            "SPARK_LOG_DIR": str(cluster.folder),
        }
        spark_class = str(spark_home() / "bin" / "spark-class")
        master = [
            spark_class, "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(cluster.master_port),
            "--webui-port", str(cluster.web_port),
        ]  # fmt: skip
        worker = [
            spark_class, "org.apache.spark.deploy.worker.Worker", cluster.master_url,
            "--host", "127.0.0.1", "--webui-port", str(free_port()),
            "--cores", str(cores), "--memory", memory,
        ]  # fmt: skip
        for name, command in (("master", master), ("worker", worker)):
            log = (cluster.folder / f"{name}.log").open("wb")
            cluster.processes.append(
                subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        try:
            cluster._wait_for_worker(timeout)
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _wait_for_worker(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/json/") as page:
                    state = json.load(page)
                if any(w.get("state") == "ALIVE" for w in state.get("workers", [])):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        logs = "\n".join(
            (self.folder / f"{n}.log").read_text()[-2000:] for n in ("master", "worker")
        )
        raise RuntimeError(f"The Spark cluster did not start in {timeout:.0f} s:\n{logs}")

    def stop(self) -> None:
        """End the worker and the master, and remove their folder."""
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> SparkCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


#: The server class in pyspark's own `jars/spark-connect_*.jar`.
CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


@dataclass
class SparkConnectServer:
    """A Spark Connect server on 127.0.0.1 in local mode, started from the pyspark
    installation's `spark-class` with its `spark-connect` jar (what `sbin/start-connect-server.sh`
    runs, in the foreground); `remote` is what computes.yml's `remote:` takes."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def remote(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls, master: str = "local[2]", jars: tuple[str, ...] = (), timeout: float = 120
    ) -> SparkConnectServer:
        connect_jars = sorted((spark_home() / "jars").glob("spark-connect_*.jar"))
        if not connect_jars:
            raise RuntimeError(f"pyspark at {spark_home()} ships no jars/spark-connect_*.jar")
        server = cls(free_port(), Path(tempfile.mkdtemp(prefix="dvt-spark-connect-")))
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(server.folder),
        }
        command = [
            str(spark_home() / "bin" / "spark-class"), "org.apache.spark.deploy.SparkSubmit",
            "--class", CONNECT_SERVER_CLASS, "--name", "DVT test Spark Connect",
            "--master", master, "--driver-memory", "1g",
            "--conf", f"spark.connect.grpc.binding.port={server.port}",
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf", "spark.ui.enabled=false",
            "--conf", f"spark.sql.warehouse.dir={server.folder / 'warehouse'}",
            "--conf", f"spark.driver.extraJavaOptions=-Djava.io.tmpdir={server.folder}",
            *(["--jars", ",".join(jars)] if jars else []),
            "spark-internal",
        ]  # fmt: skip
        log = (server.folder / "server.log").open("wb")
        server.process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=server.folder
        )
        try:
            server._wait(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        log = self.folder / "server.log"
        while time.monotonic() < deadline:
            if "Spark Connect server started at" in log.read_text(errors="replace"):
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.5)
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"The Spark Connect server did not start in {timeout:.0f} s:\n{tail}")

    def stop(self) -> None:
        """End the server and remove its folder."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> SparkConnectServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
