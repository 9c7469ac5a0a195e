"""`dvt docs generate`: the catalog gathered from every target, not only the default one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbt.adapters.factory import get_adapter
from dbt.artifacts.schemas.catalog import CatalogKey
from dbt.task.docs.generate import GenerateTask, mapping_key

from dvt.dbt_seams.factory import active_adapter
from dvt.tasks.base import TargetAwareTask


class DvtGenerateTask(TargetAwareTask, GenerateTask):
    """dbt's GenerateTask; its catalog query is sent to each target for the nodes living there.

    dbt builds the catalog inline in `run()` with the default adapter's `get_filtered_catalog`;
    for a multi-target project DVT answers that one call, for this invocation only, with the
    merged catalogs of every target, each relation's stats saying where its node lives and runs
    (catalog.json only: manifest.json stays dbt's, so `--state` comparisons are unaffected).
    """

    def run(self) -> Any:
        if not self.dvt.multi_target:
            return super().run()
        adapter = get_adapter(self.config)
        own_catalog = adapter.get_filtered_catalog

        def every_target(configs: Iterable[Any], schemas: Any, relations: Any = None) -> Any:
            return self._catalogs(own_catalog, list(configs), schemas, relations)

        adapter.get_filtered_catalog = every_target  # type: ignore[method-assign]
        try:
            return super().run()
        finally:
            del adapter.get_filtered_catalog

    def _target_of(self, config: Any) -> str | None:
        target = self.dvt.resolve(config).target
        return None if self.dvt.targets[target].source_only else target

    def _catalogs(self, own: Any, configs: list[Any], schemas: Any, relations: Any) -> Any:
        from dbt_common.clients.agate_helper import table_from_data_flat

        by_target: dict[str, list[Any]] = {}
        for config in configs:
            target = self._target_of(config)
            if target is not None:
                by_target.setdefault(target, []).append(config)
        rows: list[dict[str, Any]] = []
        names: list[str] = []
        exceptions: list[Exception] = []
        for target, members in sorted(by_target.items()):
            places = {(c.database, c.schema) for c in members}
            wanted = {s for s in schemas if s in places}
            picked = (
                None
                if relations is None
                else {r for r in relations if (r.database, r.schema) in places}
            )
            adapter = self.dvt.pool.adapter_for(target)
            if target == self.dvt.targets.default:
                table, errors = own(members, frozenset(wanted), picked)
            else:
                with active_adapter(adapter), adapter.connection_named("generate_catalog"):
                    table, errors = adapter.get_filtered_catalog(members, frozenset(wanted), picked)
            exceptions.extend(errors)
            stats = {mapping_key(c): self._dvt_stats(c) for c in members}
            for row in table:
                record = dict(zip(table.column_names, row, strict=True))
                record.update(stats.get(_catalog_key(record), {}))
                names.extend(n for n in record if n not in names)
                rows.append(record)
        return table_from_data_flat([{n: r.get(n) for n in names} for r in rows], names), exceptions

    def _dvt_stats(self, config: Any) -> dict[str, Any]:
        """Catalog stats the docs site lists on the node's page: its target, path and the
        targets it reads (a source: the connection it lives on)."""
        resolution = self.dvt.resolve(config)
        shown = [("dvt_target", "DVT target", resolution.target, "Where DVT writes or reads it")]
        if config.unique_id in self.manifest.nodes:
            reads = ", ".join(resolution.input_targets) or "-"
            shown.append(("dvt_path", "DVT path", resolution.label, "How DVT runs it"))
            shown.append(("dvt_reads", "DVT reads", reads, "The targets its inputs live on"))
        return {
            f"stats:{key}:{field}": datum
            for key, label, value, description in shown
            for field, datum in (
                ("label", label),
                ("value", value),
                ("description", description),
                ("include", True),
            )
        }


def _catalog_key(row: dict[str, Any]) -> CatalogKey:
    database = row.get("table_database")
    return CatalogKey(
        None if database is None else str(database).lower(),
        str(row.get("table_schema")).lower(),
        str(row.get("table_name")).lower(),
    )
