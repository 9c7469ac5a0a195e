"""`dvt docs generate`: the catalog gathered from every target, not only the default one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbt.adapters.factory import get_adapter
from dbt.task.docs.generate import GenerateTask

from dvt.dbt_seams.factory import active_adapter
from dvt.tasks.base import TargetAwareTask


class DvtGenerateTask(TargetAwareTask, GenerateTask):
    """dbt's GenerateTask; its catalog query is sent to each target for the nodes living there.

    dbt builds the catalog inline in `run()` with the default adapter's `get_filtered_catalog`;
    for a multi-target project DVT answers that one call, for this invocation only, with the
    merged catalogs of every target.
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
            names.extend(n for n in table.column_names if n not in names)
            rows.extend(dict(zip(table.column_names, row, strict=True)) for row in table)
        return table_from_data_flat([{n: r.get(n) for n in names} for r in rows], names), exceptions
