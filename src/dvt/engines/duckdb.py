"""The embedded DuckDB engine, with the scanner extensions from their PyPI packages (offline)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dvt.config.computes import ENGINE_KEYS
from dvt.engines.base import Engine
from dvt.exceptions import EngineUnavailableError

if TYPE_CHECKING:
    from dvt.connectors.base import Connector
    from dvt.execution.session import FederationSession
    from dvt.planning.models import FederationPlan, RelationKey

#: DuckDB extension -> the PyPI package that ships its binary.
EXTENSION_PACKAGES = {
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "mysql_scanner": "duckdb_extension_mysql_scanner",
    "httpfs": "duckdb_extension_httpfs",
}
#: computes.yml keys of a DuckDB compute that are DuckDB settings.
SETTINGS = ENGINE_KEYS["duckdb"] - {"type"}


def extension_path(extension: str) -> Path:
    package = EXTENSION_PACKAGES[extension]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(
            f"The DuckDB extension {extension!r} is missing: install it with "
            f"`pip install {package.replace('_', '-')}` (or run `dvt sync`)."
        )
    found = sorted(Path(spec.submodule_search_locations[0]).rglob(f"{extension}.duckdb_extension"))
    if not found:
        raise EngineUnavailableError(
            f"Package {package} holds no {extension} binary; reinstall it."
        )
    return found[-1]


def connect(config: dict[str, Any] | None = None) -> Any:
    """An in-memory DuckDB connection that never draws a progress bar into dvt's output."""
    import duckdb

    connection = duckdb.connect(":memory:", config=config or {})
    connection.execute("SET enable_progress_bar = false")
    return connection


class DuckDBEngine(Engine):
    """One in-memory DuckDB database per invocation; each node works on its own cursor."""

    dialect: ClassVar[str] = "duckdb"

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        self._db: Any = None
        self._lock = threading.Lock()  # the cursors
        self._attach_lock = threading.Lock()
        self._attached: set[str] = set()
        self._cursors: set[Any] = set()

    def start(self) -> None:
        config: dict[str, Any] = {k: str(v) for k, v in self.spec.options.items() if k in SETTINGS}
        self._db = connect(config)

    def session(self) -> Any:
        if self._db is None:
            raise RuntimeError("DuckDB engine used before start()")
        cursor = self._db.cursor()
        with self._lock:
            self._cursors.add(cursor)
        return cursor

    def release(self, cursor: Any) -> None:
        with self._lock:
            self._cursors.discard(cursor)
        cursor.close()

    def interrupt(self) -> None:
        with self._lock:
            for cursor in self._cursors:
                cursor.interrupt()

    def attach_once(
        self,
        alias: str,
        extension: str,
        statements: list[str],
        on_attach: Callable[[], None] | None = None,
    ) -> None:
        """Load `extension` and run `statements` (CREATE SECRET, ATTACH) the first time `alias`
        is needed; later calls, from any thread, find it attached. An ATTACH may wait on the
        network, so it holds a lock of its own: cursors and interrupts never wait for it."""
        with self._attach_lock:
            if alias in self._attached:
                return
            if extension not in self._attached:
                self._db.execute(f"LOAD '{extension_path(extension)}'")
                self._attached.add(extension)
            for statement in statements:
                self._db.execute(statement)
            self._attached.add(alias)
        if on_attach is not None:
            on_attach()

    def materialize(
        self,
        session: FederationSession,
        plan: FederationPlan,
        target: Connector,
        relation: RelationKey,
        *,
        typed_sql: str | None = None,
        logged: bool = False,
    ) -> int:
        session.expose_inputs(plan)
        staging = session.staging
        if staging is None:
            return target.stage(plan.engine_sql, relation, typed_sql=typed_sql, logged=logged)
        from dvt.staging import RESULT

        staging.prepare(self)
        staging.write(session.cursor, plan.engine_sql, RESULT)
        return target.load_files(staging, RESULT, relation, typed_sql=typed_sql, logged=logged)

    def fetch(self, session: FederationSession, plan: FederationPlan, limit: int | None) -> Any:
        session.expose_inputs(plan)
        sql = plan.engine_sql
        if limit is not None:
            sql = f"SELECT * FROM ({sql}) AS dvt_show LIMIT {int(limit)}"
        return session.cursor.execute(sql).to_arrow_table()

    def stop(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._attached.clear()
