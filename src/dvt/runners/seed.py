"""The bulk seed runner: dbt's seed materialization with the CSV read by DuckDB, not agate.

dbt's materialization asks its context for `load_agate_table()` (the whole file parsed by agate)
and `load_csv_rows()` (batched INSERTs). This runner gives the context a `SeedTable` (dbt's
column types and row count from one DuckDB scan) and, on PostgreSQL, a COPY load. Everything else
(create or truncate, `--full-refresh`, grants, hooks, docs, the transaction) is dbt's own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dbt.task.seed import SeedRunner

from dvt import events

#: Adapter types with a bulk path; seeds on any other adapter load exactly as dbt loads them.
BULK_ADAPTER_TYPES = frozenset({"postgres", "duckdb"})
#: Macros a project may override to load seeds its own way; DVT then leaves the load to dbt.
_LOAD_MACROS = ("load_csv_rows", "default__load_csv_rows")


class BulkSeedRunner(SeedRunner):
    bulk = False

    def execute(self, model: Any, manifest: Any) -> Any:
        self.bulk = self._loads_in_bulk(model, manifest)
        return super().execute(model, manifest)

    def _execute_model(
        self, hook_ctx: Any, context_config: Any, model: Any, context: dict[str, Any], macro: Any
    ) -> Any:
        if not self.bulk:
            return super()._execute_model(hook_ctx, context_config, model, context, macro)
        from dvt.engines.duckdb import connect

        with connect() as con:
            load = _BulkLoad(self, model, context, con)
            context["load_agate_table"] = load.seed_table
            if self.adapter.type() == "postgres":
                context["load_csv_rows"] = load.copy_rows
            return super()._execute_model(hook_ctx, context_config, model, context, macro)

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
    """The two context functions of one seed's materialization."""

    def __init__(self, runner: BulkSeedRunner, model: Any, context: dict[str, Any], con: Any):
        self.runner = runner
        self.model = model
        self.context = context
        self.con = con
        self.inference: Any = None

    def seed_table(self) -> Any:
        from dvt.seeds.inference import infer
        from dvt.seeds.reader import SeedCsv

        model = self.model
        seed = SeedCsv.open(self._path(), model.original_file_path, model.config.delimiter or ",")
        self.inference = infer(
            self.con,
            seed,
            model.config.column_types or {},
            for_copy=self.runner.adapter.type() == "postgres",
        )
        table = self.inference.table
        table.original_abspath = str(seed.path)  # dbt-duckdb reads it
        events.debug(
            f"Bulk seed {model.unique_id}: {table.row_count:,} rows typed from one DuckDB scan "
            f"of {seed.display_path}"
        )
        return table

    def copy_rows(self, model: Any, agate_table: Any) -> str:
        from dvt.seeds.loaders import PostgresSeedLoader

        adapter = self.runner.adapter
        quote = model["config"].get("quote_columns", None)
        columns = ", ".join(
            adapter.quote_seed_column(name, quote) for name in self.inference.csv.column_names
        )
        loader = PostgresSeedLoader(adapter, self.inference)
        return loader.load(self.con, self.context["this"].render(), columns)

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
