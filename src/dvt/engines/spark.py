"""Apache Spark as the federation engine: local mode, a standalone cluster or Spark Connect.

computes.yml:

    spark_cluster:
      type: spark
      master: spark://host:7077      # or local[*] (default); or `remote: sc://host:15002`
      config: {spark.executor.memory: 4g}
      jars: [/path/to/udfs.jar]      # or URIs; a postgresql*.jar is the JDBC driver
      jdbc: {fetchsize: 10000, num_partitions: 8, batchsize: 10000}

PostgreSQL inputs are read by the executors through Spark JDBC with the planner's pushed-down
query, split on the source table's integer key when it has one; other inputs (DuckDB, SQLite,
MySQL) are read by DVT and handed to Spark as Arrow. Results go to a PostgreSQL target by JDBC from
the executors and to a DuckDB target as Arrow through the target's own connection; dbt's
materialization then finishes the model as with the DuckDB engine.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from dvt import events
from dvt.engines.base import Engine
from dvt.exceptions import EngineUnavailableError
from dvt.requirements import DISTRIBUTION, declared, installed, pinned, satisfied

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from dvt.connectors.base import Connector, NodeContext
    from dvt.planning.models import Extraction, FederationPlan, RelationKey

#: JDBC driver class, the word its jar's file name holds, and the machine's jar locations, per
#: target type Spark reads directly.
JDBC_DRIVERS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "postgres": ("org.postgresql.Driver", "postgresql", ("/usr/share/java/postgresql.jar",)),
}
#: The lowest Java each Spark major version runs on.
JAVA_FOR_SPARK: Mapping[int, int] = {3: 8, 4: 17}
#: DVT's extra holding the Spark Connect client, and pyspark's own.
CONNECT_EXTRA, PYSPARK_CONNECT_EXTRA = "spark-connect", "connect"
#: Rows per partition aimed at when DVT splits a JDBC read on the source's key.
_ROWS_PER_PARTITION = 500_000
#: Rows handed to Spark at a time from an Arrow stream: DVT never holds a whole input.
_ROWS_PER_HANDOVER = 1_000_000
_DEFAULT_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # PostgreSQL's and DuckDB's `timestamp` has no time zone: so has Spark's, for DVT.
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
}


#: Functions SQLGlot translates to Spark whose results can differ from the model's database.
SEMANTIC_DIFFERENCES: Mapping[str, str] = {
    "RegexpLike": "regular expressions run with Java's syntax in Spark",
    "RegexpILike": "regular expressions run with Java's syntax in Spark",
    "RegexpReplace": "regular expressions run with Java's syntax in Spark",
    "RegexpExtract": "regular expressions run with Java's syntax in Spark",
    "RegexpSplit": "regular expressions run with Java's syntax in Spark",
    "TimeToStr": "date format patterns are translated to Java's DateTimeFormatter",
    "StrToTime": "date format patterns are translated to Java's DateTimeFormatter",
    "StrToDate": "date format patterns are translated to Java's DateTimeFormatter",
}


def semantic_differences(engine_sql: str) -> list[str]:
    """DVT003 notes for the Spark SQL of a plan: each function whose meaning may differ."""
    import sqlglot

    notes = {}
    for function in sqlglot.parse_one(engine_sql, read="spark").find_all(sqlglot.exp.Func):
        reason = SEMANTIC_DIFFERENCES.get(type(function).__name__)
        if reason:
            notes[function.sql(dialect="spark")] = reason
    return [f"{sql}: {reason}" for sql, reason in notes.items()]


def resolve_jars(compute: str, configured: Sequence[str]) -> list[str]:
    """A compute's `jars:`: a URI (`https://...`, `local:...`) as written, for Spark to fetch;
    a local path or pattern as the files it matches, which must exist."""
    jars = []
    for entry in configured:
        if _URI.match(entry):
            jars.append(entry)
            continue
        found = sorted(glob.glob(entry))
        if not found:
            raise EngineUnavailableError(
                f"Compute {compute!r} lists jar {entry!r} under `jars:` in computes.yml, "
                "and no such file exists."
            )
        jars.extend(found)
    return jars


def jdbc_jar(target_type: str, jars: Sequence[str]) -> str | None:
    """The JDBC driver jar for a target type: a configured jar whose file name says so
    (`postgresql-42.7.3.jar`) first, then the machine's."""
    if target_type not in JDBC_DRIVERS:
        return None
    _, word, known = JDBC_DRIVERS[target_type]
    machine = [found for pattern in known for found in sorted(glob.glob(pattern))]
    return next((jar for jar in [*jars, *machine] if word in _file_name(jar).lower()), None)


def spark_jars(jars: Sequence[str], existing: str | None = None) -> str:
    """`spark.jars`: the setting's own jars, the compute's jars, and each driver's jar."""
    drivers = [jar for t in JDBC_DRIVERS if (jar := jdbc_jar(t, jars))]
    return ",".join(dict.fromkeys([*(existing.split(",") if existing else []), *jars, *drivers]))


_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


def _file_name(jar: str) -> str:
    return jar.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Java:
    """The java Spark's launcher runs, and the version it reports."""

    path: str
    version: str  # "17.0.15", or "1.8.0_392" for Java 8

    @property
    def major(self) -> int:
        parts = re.split(r"[._+-]", self.version)
        return int(parts[1] if parts[0] == "1" else parts[0])


def find_java() -> Java | str:
    """`$JAVA_HOME/bin/java`, else `java` on PATH (as Spark's launcher chooses), with its
    version from `java -version`; or why none can be used."""
    java_home = os.environ.get("JAVA_HOME")
    path = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if path is None or not os.access(path, os.X_OK):
        where = f"JAVA_HOME={java_home}" if java_home else "PATH"
        return f"no java found (on {where})"
    try:
        done = subprocess.run(
            [path, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{path} -version failed: {exc}"
    found = re.search(r'version "([^"]+)"', done.stderr + done.stdout)
    if found is None or not re.match(r"\d", found.group(1)):
        return f"{path} -version printed no version: {(done.stderr or done.stdout).strip()[:200]}"
    return Java(path, found.group(1))


def java_needed() -> int:
    """The lowest Java the installed pyspark runs on (else the one DVT pins)."""
    version = installed("pyspark")
    if version is None:
        lowest = [s.version for s in pinned("pyspark", "spark").specifier if ">" in s.operator]
        version = lowest[0] if lowest else "4"
    return JAVA_FOR_SPARK.get(int(version.split(".")[0]), max(JAVA_FOR_SPARK.values()))


def java_problem(compute: str) -> str | None:
    """Why this machine's Java cannot run the compute's Spark, with the fix; None if it can."""
    java = find_java()
    needed = java_needed()
    if isinstance(java, Java) and java.major >= needed:
        return None
    found = java if isinstance(java, str) else f"{java.path} is Java {java.version}"
    return (
        f"Compute {compute!r} runs Spark, which needs Java {needed} or later, and {found}: "
        f"install a JDK (Debian: `apt-get install openjdk-{needed}-jre-headless`) and put it on "
        "PATH, or set JAVA_HOME to it."
    )


def connect_client() -> list[Requirement]:
    """What a `remote: sc://...` compute needs in this process: DVT's `spark-connect` extra,
    then what the installed pyspark's `connect` extra adds (pandas, grpcio, zstandard...)."""
    from packaging.utils import canonicalize_name

    ours = declared(DISTRIBUTION, CONNECT_EXTRA)
    named = {canonicalize_name(r.name) for r in ours}
    theirs = declared("pyspark", PYSPARK_CONNECT_EXTRA)
    return ours + [r for r in theirs if canonicalize_name(r.name) not in named]


def connect_problem(compute: str, remote: str) -> str | None:
    """What is missing for the compute's Spark Connect client, with the fix; None if nothing."""
    missing = [r for r in connect_client() if not satisfied(r)]
    if not missing:
        return None
    listed = " ".join(f"'{r}'" for r in missing)
    return (
        f"Compute {compute!r} connects to Spark Connect at {remote}, which needs pyspark's Connect "
        f"client: run `dvt sync`, or `pip install {listed}`."
    )


class SparkEngine(Engine):
    """One SparkSession per invocation; each node gets a child session for its temp views."""

    dialect: ClassVar[str] = "spark"

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        self._spark: Any = None
        self._settings: dict[str, Any] = {}
        self._node_sessions: set[Any] = set()  # Spark Connect: one per running node

    @property
    def options(self) -> Mapping[str, Any]:
        return self.spec.options

    def start(self) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineUnavailableError(
                f"Compute {self.name!r} runs on Spark, but pyspark is not installed: run "
                "`dvt sync` (or `pip install pyspark`)."
            ) from None
        remote = self.options.get("remote")
        problem = connect_problem(self.name, remote) if remote else java_problem(self.name)
        if problem is not None:
            raise EngineUnavailableError(problem)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.appName("dvt")
        builder = builder.remote(remote) if remote else builder.master(self.master)
        settings: dict[str, Any] = {
            **_DEFAULT_SETTINGS,
            **{str(k): str(v) for k, v in self._config().items()},
        }
        if not remote:
            jars = spark_jars(self._jars(), settings.get("spark.jars"))
            if jars:
                settings["spark.jars"] = jars
        self._settings = settings
        builder = builder.config(map=settings)
        started = time.perf_counter()
        self._spark = builder.getOrCreate()
        if not remote:
            self._spark.sparkContext.setLogLevel("ERROR")
        where = remote or self.master
        events.info(f"Spark session started in {time.perf_counter() - started:.1f} s ({where})")

    @property
    def master(self) -> str:
        return str(self.options.get("master") or "local[*]")

    def _config(self) -> Mapping[str, Any]:
        return self.options.get("config") or {}

    def _jars(self) -> list[str]:
        return resolve_jars(self.name, [str(j) for j in self.options.get("jars") or []])

    def _jdbc(self, key: str, default: int) -> int:
        return int((self.options.get("jdbc") or {}).get(key, default))

    def session(self) -> Any:
        if self._spark is None:
            raise RuntimeError("Spark engine used before start()")
        remote = self.options.get("remote")
        if remote:  # Spark Connect has no newSession(): a session of its own per node
            from pyspark.sql import SparkSession

            session = SparkSession.builder.remote(remote).config(map=self._settings).create()
            self._node_sessions.add(session)
            return session
        return self._spark.newSession()

    def release(self, session: Any) -> None:
        if session in self._node_sessions:
            self._node_sessions.discard(session)
            session.stop()
            return
        for table in session.catalog.listTables():
            if table.isTemporary:
                session.catalog.dropTempView(table.name)

    def interrupt(self) -> None:
        if self._spark is None:
            return
        if self.options.get("remote"):
            for session in list(self._node_sessions):
                session.interruptAll()
        else:
            self._spark.sparkContext.cancelAllJobs()

    def stop(self) -> None:
        if self._spark is not None:
            self._spark.stop()
            self._spark = None

    # -- one node ---------------------------------------------------------------------------

    def materialize(
        self,
        session: NodeContext,
        plan: FederationPlan,
        target: Connector,
        relation: RelationKey,
        *,
        typed_sql: str | None = None,
        logged: bool = False,
    ) -> int:
        jdbc = session.staging is None and target.spec.type in JDBC_DRIVERS
        if jdbc and not self.options.get("remote"):  # (a Connect server has its own jars)
            self.require_jdbc_writer(target.spec.type, target.spec.name)
        spark = self._expose(session, plan)
        try:
            result = spark.sql(plan.engine_sql)
            if session.staging is not None:  # the executors write Parquet files, the target loads
                from dvt.staging import RESULT

                # Marks the folder for removal even when every input came over JDBC.
                session.staging.prepare(session.engine)
                result.write.mode("overwrite").parquet(session.staging.folder(RESULT))
                return target.load_files(
                    session.staging, RESULT, relation, typed_sql=typed_sql, logged=logged
                )
            if jdbc:
                table = target.table(relation).sql(dialect=target.dialect)
                if typed_sql is not None:  # the target types the table; Spark appends to it
                    target.create_typed(relation, typed_sql)
                result.write.format("jdbc").options(
                    **self._jdbc_options(target),
                    dbtable=table,
                    batchsize=str(self._jdbc("batchsize", 10_000)),
                ).mode("append" if typed_sql is not None else "overwrite").save()
                return int(target.scalar(f"SELECT count(*) FROM {table}"))
            reader = result.toArrow().to_reader()
            return target.stage_arrow(reader, relation, typed_sql=typed_sql)
        finally:
            self.release(spark)

    def fetch(self, session: NodeContext, plan: FederationPlan, limit: int | None) -> Any:
        spark = self._expose(session, plan)
        try:
            result = spark.sql(plan.engine_sql)
            return (result if limit is None else result.limit(limit)).toArrow()
        finally:
            self.release(spark)

    def _expose(self, session: NodeContext, plan: FederationPlan) -> Any:
        """A child session holding each extraction as a temp view named as the engine SQL
        names it: read by the executors over JDBC, or handed over as Arrow (with a bucket: as
        Parquet files staged there)."""
        staging = session.staging
        if staging is not None and staging.bucket.type != "local":
            raise EngineUnavailableError(
                f"Compute {self.name!r} (Spark) stages only in local buckets; bucket "
                f"{staging.bucket.name!r} is {staging.bucket.type}. Use a local bucket or the "
                "duckdb compute."
            )
        spark = self.session()
        for extraction in plan.extractions:
            connector = session.connector(extraction.input.target)
            frame = self._read_jdbc(spark, connector, extraction)
            if frame is None and staging is not None:
                session.stage_input(extraction)
                frame = spark.read.parquet(staging.folder(extraction.engine_name))
            elif frame is None:
                sql = connector.extraction_sql(extraction, extraction.input.key)
                counter = session.rows_read.setdefault(extraction.engine_name, [0])
                frame = _arrow_frame(spark, connector.stream(sql), counter)
            frame.createOrReplaceTempView(extraction.engine_name)
        return spark

    def _driver_for(self, connector: Connector) -> str | None:
        return jdbc_jar(connector.spec.type, self._jars())

    def require_jdbc_writer(self, target_type: str, target_name: str) -> None:
        """Spark writes a target of this type through JDBC only: DVT105 before any work when
        no driver jar is found."""
        if jdbc_jar(target_type, self._jars()) is None:
            raise EngineUnavailableError(
                f"Compute {self.name!r} writes target {target_name!r} through JDBC and finds no "
                f"{JDBC_DRIVERS[target_type][1]} driver jar: install Debian's "
                "libpostgresql-jdbc-java (scripts/setup.sh does), or list a "
                "postgresql-*.jar under `jars:` in computes.yml."
            )

    def _jdbc_options(self, connector: Connector) -> dict[str, str]:
        options = connector.spec.options
        driver, _, _ = JDBC_DRIVERS[connector.spec.type]
        host, port = options.get("host"), options.get("port", 5432)
        database = options.get("dbname") or options.get("database")
        return {
            "url": f"jdbc:postgresql://{host}:{port}/{database}?reWriteBatchedInserts=true",
            "user": str(options.get("user")),
            "password": str(options.get("password") or options.get("pass") or ""),
            "driver": driver,
        }

    def _read_jdbc(self, spark: Any, connector: Connector, extraction: Extraction) -> Any:
        """The extraction read by the executors, split on the source's integer key."""
        if connector.spec.type not in JDBC_DRIVERS or self._driver_for(connector) is None:
            return None
        sql = connector.extraction_sql(extraction, extraction.input.key)
        reader = spark.read.format("jdbc").options(
            **self._jdbc_options(connector),
            fetchsize=str(self._jdbc("fetchsize", 10_000)),
            preferTimestampNTZ="true",
        )
        split = connector.split_key(extraction.input.key, extraction.columns)
        if split is None:
            return reader.option("query", sql).load()
        column, low, high, rows = split
        partitions = self._jdbc("num_partitions", max(1, min(64, rows // _ROWS_PER_PARTITION)))
        if partitions <= 1 or high <= low:
            return reader.option("query", sql).load()
        return reader.options(
            dbtable=f"({sql}) AS dvt_input",
            partitionColumn=column,
            lowerBound=str(low),
            upperBound=str(high + 1),
            numPartitions=str(partitions),
        ).load()


def _arrow_frame(spark: Any, reader: Any, counter: list[int]) -> Any:
    """An Arrow stream as one DataFrame, handed over in chunks of `_ROWS_PER_HANDOVER` rows, so
    the Python side holds one chunk at a time."""
    import functools

    import pyarrow as pa

    frames: list[Any] = []
    chunk: list[Any] = []
    rows = 0
    for batch in reader:
        chunk.append(batch)
        rows += batch.num_rows
        counter[0] += batch.num_rows
        if rows >= _ROWS_PER_HANDOVER:
            frames.append(spark.createDataFrame(pa.Table.from_batches(chunk, reader.schema)))
            chunk, rows = [], 0
    if chunk or not frames:
        frames.append(spark.createDataFrame(pa.Table.from_batches(chunk, reader.schema)))
    return functools.reduce(lambda a, b: a.unionAll(b), frames)
