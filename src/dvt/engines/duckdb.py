"""The embedded DuckDB engine, with the scanner extensions from their PyPI packages (offline)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from dvt.config.computes import ENGINE_KEYS
from dvt.embedded import connect, extension_path
from dvt.engines.base import Engine
from dvt.exceptions import InexactResultError
from dvt.planning.numeric import INEXACT

if TYPE_CHECKING:
    from dvt.connectors.base import Connector, NodeContext
    from dvt.planning.models import FederationPlan, RelationKey

#: computes.yml keys of a DuckDB compute that are DuckDB settings.
SETTINGS = ENGINE_KEYS["duckdb"] - {"type"}
#: The engine's memory when computes.yml sets none: bounded (DuckDB spills beyond it), where
#: DuckDB's own default is 80% of the machine.
DEFAULT_MEMORY_LIMIT = "1GB"


def _create_macros(cursor: Any, plan: FederationPlan) -> None:
    """The macros the plan's SQL calls (PostgreSQL's numeric division), on the node's cursor."""
    for statement in plan.engine_macros:
        cursor.execute(statement)


@contextlib.contextmanager
def _exact_numerics_or_target(plan: FederationPlan) -> Iterator[None]:
    """PostgreSQL's exact numerics (`planning.numeric`) past what DECIMAL(38) holds fail the
    engine's query; the target answers them, so the node goes back there."""
    import duckdb

    try:
        yield
    except (duckdb.OutOfRangeException, duckdb.ConversionException) as exc:
        if not plan.exact_numerics:
            raise
        raise InexactResultError(f"exact numerics past DECIMAL(38) ({exc})") from exc
    except duckdb.InvalidInputException as exc:
        if not plan.exact_numerics or INEXACT not in str(exc):
            raise
        raise InexactResultError(INEXACT.removeprefix("dvt: ")) from exc


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
        config.setdefault("memory_limit", DEFAULT_MEMORY_LIMIT)
        self._db = connect(config)

    def session(self) -> Any:
        if self._db is None:
            raise RuntimeError("DuckDB engine used before start()")
        with self._lock:
            cursor = self._db.cursor()
            self._cursors.add(cursor)
        return cursor

    def recover(self, error: BaseException) -> None:
        """After an INTERNAL or FATAL error DuckDB invalidates the whole database: every later
        statement fails. Start a fresh one, so the error fails only the node that met it."""
        import duckdb

        if not isinstance(error, (duckdb.FatalException, duckdb.InternalException)):
            return
        with self._lock, self._attach_lock:
            broken, self._db = self._db, None
            self._cursors.clear()
            self._attached.clear()
            self.start()
        with contextlib.suppress(Exception):
            broken.close()

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
        session: NodeContext,
        plan: FederationPlan,
        target: Connector,
        relation: RelationKey,
        *,
        typed_sql: str | None = None,
        logged: bool = False,
    ) -> int:
        session.expose_inputs(plan)
        _create_macros(session.cursor, plan)
        staging = session.staging
        with _exact_numerics_or_target(plan):
            if staging is None:
                return target.stage(plan.engine_sql, relation, typed_sql=typed_sql, logged=logged)
            from dvt.staging import RESULT

            staging.prepare(self)
            staging.write(session.cursor, plan.engine_sql, RESULT)
        return target.load_files(staging, RESULT, relation, typed_sql=typed_sql, logged=logged)

    def fetch(self, session: NodeContext, plan: FederationPlan, limit: int | None) -> Any:
        session.expose_inputs(plan)
        _create_macros(session.cursor, plan)
        sql = plan.engine_sql
        if limit is not None:
            sql = f"SELECT * FROM ({sql}) AS dvt_show LIMIT {int(limit)}"
        return session.cursor.execute(sql).to_arrow_table()

    def stop(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._attached.clear()
