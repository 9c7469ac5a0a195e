"""The bulk seed runner: dbt's seed materialization with the CSV read by DuckDB, not agate.

dbt's materialization asks its context for `load_agate_table()` (the whole file parsed by agate)
and `load_csv_rows()` (batched INSERTs). This runner gives the context a `SeedTable` (dbt's
column types and the row count) and a bulk load. Everything else (create or truncate,
`--full-refresh`, grants, hooks, docs, the transaction) is dbt's own.

The load does not wait for the full type check. The table is created with the types agate gives
the file's first rows, and the load starts at once: on PostgreSQL the server COPYs the file
while DuckDB checks every value beside it; on DuckDB one statement loads and checks each value.
When the check finds that dbt would have typed the file otherwise (rare: a later value of
another kind), the node is rolled back and run again with the exact types, as before. Nothing
scans the file only to count it: the load runs when dbt asks for the count (see `_BulkLoad`).
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbt.task.seed import SeedRunner
from dbt_common.exceptions import DbtInternalError

from dvt import events
from dvt.runners.connections import roll_back

if TYPE_CHECKING:
    from dvt.seeds.inference import SeedHead, SeedInference, SeedTable
    from dvt.seeds.reader import SeedCsv

#: Adapter types with a bulk path; seeds on any other adapter load exactly as dbt loads them.
BULK_ADAPTER_TYPES = frozenset({"postgres", "duckdb"})
#: Macros a project may override to load seeds its own way; DVT then leaves the load to dbt.
_LOAD_MACROS = ("load_csv_rows", "default__load_csv_rows")


class SeedTypesChangedError(Exception):
    """The full check found other types than the head's: the node runs again with these."""

    def __init__(self, inference: SeedInference | None) -> None:
        super().__init__("the seed's full type check disagrees with its first rows")
        self.inference = inference


class BulkSeedRunner(SeedRunner):
    bulk = False
    #: The exact types, when a first attempt found them to differ from the head's.
    exact: SeedInference | None = None
    rechecked = False

    def execute(self, model: Any, manifest: Any) -> Any:
        self.bulk = self._loads_in_bulk(model, manifest)
        existing = self.bulk and self.adapter.get_relation(
            model.database, model.schema, model.alias
        )
        try:
            return super().execute(model, manifest)
        except SeedTypesChangedError as changed:
            roll_back(self.adapter)
            if existing:  # a --full-refresh dropped it from dbt's cache; it is back
                self.adapter.cache_added(existing)
            events.debug(f"Bulk seed {model.unique_id}: {changed}; loading it again")
            self.exact, self.rechecked = changed.inference, True
            return super().execute(model, manifest)

    def _execute_model(
        self,
        hook_ctx: Any,
        context_config: Any,
        model: Any,
        context: dict[str, Any],
        materialization_macro: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """dbt's, with the bulk load's functions in the materialization's context; dbt's other
        arguments (1.12's `manifest`) pass through."""
        run = super()._execute_model
        if not self.bulk:
            return run(
                hook_ctx, context_config, model, context, materialization_macro, *args, **kwargs
            )
        load = _BulkLoad(self, model, context)
        load.install()
        try:
            return run(
                hook_ctx, context_config, model, context, materialization_macro, *args, **kwargs
            )
        except BaseException as exc:
            load.stop_check()  # closing waits for it: not for a whole scan
            misfit = load.override_error(exc)
            if misfit is not None:
                raise misfit from exc
            raise
        finally:
            load.close()

    def _loads_in_bulk(self, model: Any, manifest: Any) -> bool:
        adapter_type = self.adapter.type()
        if adapter_type not in BULK_ADAPTER_TYPES:
            return False
        if adapter_type == "duckdb" and not model.config.get("fast", True):
            return False  # dbt-duckdb's own opt-out of its file COPY
        root = self.config.project_name
        return not any(
            macro.package_name == root and macro.name.endswith(_LOAD_MACROS)
            for macro in manifest.macros.values()
        )


class _BulkLoad:
    """The context functions of one seed's materialization.

    dbt asks for the row count (`agate_table.rows | length`) right after it creates or truncates
    the table and right before `load_csv_rows`. Counting a large file is a scan of its own, so
    once the table is ready the count is answered by loading the rows (the load counts them), and
    `load_csv_rows` returns the statement that ran.
    """

    def __init__(self, runner: BulkSeedRunner, model: Any, context: dict[str, Any]):
        self.runner = runner
        self.model = model
        self.context = context
        self._duckdb: Any = None
        self._checker: ThreadPoolExecutor | None = None  # the PostgreSQL check beside the COPY
        self.seed: SeedCsv | None = None
        self.head: SeedHead | None = None
        self.table: SeedTable | None = None
        self.pending: Future[SeedInference] | None = None
        self.check_cursor: Any = None
        self.table_ready = False
        self.load_started = False
        self.loaded: tuple[str, int] | None = None

    def duckdb(self) -> Any:
        """The in-memory DuckDB that reads the file, opened on first use."""
        if self._duckdb is None:
            from dvt.embedded import connect

            self._duckdb = connect()
        return self._duckdb

    def close(self) -> None:
        """Wait for the check (it reads on the DuckDB connection), then close that."""
        if self._checker is not None:
            self._checker.shutdown()
        if self._duckdb is not None:
            self._duckdb.close()

    def install(self) -> None:
        """Put this load's functions into the materialization's context."""
        context = self.context
        context["load_agate_table"] = self.seed_table
        if self.runner.adapter.type() == "duckdb" and self.runner.rechecked:
            return  # dbt-duckdb's own COPY loads the file, with the exact types
        for name in ("create_csv_table", "reset_csv_table"):
            context[name] = self._readying(context[name])
        context["load_csv_rows"] = self.load_csv_rows

    def seed_table(self) -> SeedTable:
        """The head's types (the exact ones on a second attempt) and the file's row count."""
        from dvt.seeds.inference import infer_head
        from dvt.seeds.reader import SeedCsv

        model, runner = self.model, self.runner
        seed = SeedCsv.open(self._path(), model.original_file_path, model.config.delimiter)
        self.seed = seed
        if runner.exact is not None:
            self.table = runner.exact.table
        elif runner.rechecked:  # DuckDB after a failed checked load: dbt-duckdb's own COPY
            from dvt.seeds.inference import infer

            self.table = infer(self.duckdb(), seed, model.config.column_types or {}).table
        else:
            self.head = infer_head(seed, model.config.column_types or {}, self.duckdb)
            whole = self.head.is_whole_file  # then the head's length is the count
            self.table = self.head.table(len(self.head.rows) if whole else self._count)
            if runner.adapter.type() == "postgres":
                self._checker = ThreadPoolExecutor(1, "dvt_seed_check")
                self.pending = self._checker.submit(self._verify, self.duckdb(), self.head)
        self.table.original_abspath = str(seed.path)  # dbt-duckdb reads it
        return self.table

    def _readying(self, macro: Any) -> Any:
        """`macro` (dbt's create or truncate), noting that the table is ready for the rows."""

        def make_ready(*args: Any, **kwargs: Any) -> Any:
            sql = macro(*args, **kwargs)
            self.table_ready = True
            return sql

        return make_ready

    def _count(self) -> int:
        """The file's row count: the load's, once the table is ready for it."""
        from dvt.seeds.inference import count_rows

        if self.table_ready:
            return self._load()[1]
        assert self.head is not None
        return count_rows(self.duckdb(), self.head)

    def load_csv_rows(self, model: Any, agate_table: Any) -> str:
        return self._load()[0]

    def _load(self) -> tuple[str, int]:
        """Load the rows, once: (the statement, the rows loaded)."""
        if self.loaded is None:
            if self.load_started:  # a failed load is not run again in its aborted transaction
                raise DbtInternalError(f"the bulk load of {self.model.unique_id} already ran")
            self.load_started = True
            load = self._copy if self.runner.adapter.type() == "postgres" else self._insert_checked
            self.loaded = load()
            rows = self.loaded[1]
            assert self.table is not None and self.seed is not None
            self.table.loaded(rows)
            events.debug(
                f"Bulk seed {self.model.unique_id}: {rows:,} rows loaded from "
                f"{self.seed.display_path}"
            )
        return self.loaded

    def _verify(self, con: Any, head: SeedHead) -> SeedInference:
        """The full check, on a cursor of its own (it runs beside the COPY)."""
        from dvt.seeds.inference import verify

        with con.cursor() as cursor:
            self.check_cursor = cursor
            return verify(cursor, head, for_copy=True)

    def exact(self) -> SeedInference:
        """The full check's result, or `SeedTypesChangedError` when dbt's types differ."""
        if self.runner.exact is not None:
            return self.runner.exact
        assert self.pending is not None and self.table is not None
        inference = self.pending.result()
        adapter = self.runner.adapter
        for i in range(len(inference.columns)):
            if adapter.convert_type(inference.table, i) != adapter.convert_type(self.table, i):
                raise SeedTypesChangedError(inference)
        return inference

    def _copy(self) -> tuple[str, int]:
        """PostgreSQL: COPY the file (or its rewritten values) on dbt's connection."""
        from dvt.seeds.loaders import PostgresSeedLoader

        known = self.runner.exact
        loader = PostgresSeedLoader(
            self.runner.adapter,
            self.exact,
            known is None or known.copyable,
            self.model.config.column_types or {},
        )
        assert self.seed is not None
        relation = self.context["this"].render()
        return loader.load(self.duckdb(), self.seed, relation, self._columns())

    def _insert_checked(self) -> tuple[str, int]:
        """DuckDB: load and check every value in one statement (dbt-duckdb's types)."""
        from dvt.seeds.loaders import SeedRecheckError, insert_checked

        assert self.head is not None and self.table is not None
        adapter = self.runner.adapter
        types = [adapter.convert_type(self.table, i) for i in range(len(self.head.columns))]
        try:
            return insert_checked(adapter, self.head, types, self.context["this"].render())
        except SeedRecheckError as exc:
            events.debug(f"Bulk seed {self.model.unique_id}: checked load stopped: {exc}")
            raise SeedTypesChangedError(None) from None

    def override_error(self, exc: BaseException) -> Exception | None:
        """On DuckDB the second attempt is dbt-duckdb's own COPY: a value it cannot read into a
        `column_types` override is named by file, line, column and override (PostgreSQL's
        loader does the same for its COPY), instead of DuckDB's CSV reader report."""
        column_types = self.model.config.column_types or {}
        if self.seed is None or not column_types or not self.runner.rechecked:
            return None
        if self.runner.adapter.type() != "duckdb":
            return None
        return self.seed.duckdb_override_error(exc, column_types)

    def stop_check(self) -> None:
        """Interrupt a check still running (the load failed or was cancelled)."""
        if self.pending is not None and not self.pending.done():
            with contextlib.suppress(Exception):  # it may have just finished and closed
                self.check_cursor.interrupt()

    def _columns(self) -> str:
        assert self.table is not None
        quote = self.model.config.get("quote_columns", None)
        adapter = self.runner.adapter
        return ", ".join(adapter.quote_seed_column(n, quote) for n in self.table.column_names)

    def _path(self) -> Path:
        """The seed file, found as dbt's `load_agate_table` finds it."""
        config, model = self.runner.config, self.model
        package = (
            os.path.join(config.packages_install_path, model.package_name)
            if model.package_name != config.project_name
            else "."
        )
        path = Path(config.project_root, package, model.original_file_path)
        if not path.exists() and model.root_path:
            path = Path(model.root_path, model.original_file_path)
        return path
