"""The federated model runner: extract each input, compute in the engine, stage the result in
the model's target, then let dbt's own materialization finish there (DESIGN.md section 6)."""

from __future__ import annotations

import time
from typing import Any

from dbt.artifacts.schemas.run import RunResult
from dbt.task.run import ModelRunner

from dvt import events, invocation
from dvt.engines.duckdb import DuckDBEngine
from dvt.exceptions import DvtError
from dvt.planning.models import RelationKey
from dvt.runners.session import DIALECTS, FederationSession, plan_inputs

STAGE_SUFFIX = "__dvt_stage"


class FederationError(DvtError):
    code = "DVT104"


class FederatedModelRunner(ModelRunner):
    """dbt's ModelRunner on the model's target, fed by the engine instead of the model's SQL."""

    def execute(self, model: Any, manifest: Any) -> RunResult:
        dvt = invocation.get()
        resolution = dvt.resolve(model)
        engine = dvt.engine(resolution.compute or dvt.computes.default)
        assert isinstance(engine, DuckDBEngine), "engines.create returns DuckDB engines only"
        stage = RelationKey(model.database or "", model.schema, f"{model.alias}{STAGE_SUFFIX}")
        started = time.perf_counter()
        original_sql, original_materialized = model.compiled_code, model.config.materialized
        with FederationSession(dvt, engine, model) as session:
            target = session.connector(resolution.target)
            try:
                plan = session.plan(plan_inputs(dvt, model, manifest), DIALECTS[target.spec.type])
                for sql in plan.not_pushed:
                    events.debug(f"[DVT005] {model.unique_id}: predicate kept in the engine: {sql}")
                session.expose_inputs(plan)
                rows = target.stage(plan.engine_sql, stage)
            except DvtError:
                target.drop_stage(stage)
                raise
            except Exception as exc:  # the engine's and drivers' errors, with the model named
                target.drop_stage(stage)
                raise FederationError(
                    f"Federated model {model.unique_id!r} failed while reading "
                    f"{', '.join(plan_targets(resolution))} into {resolution.target!r}: "
                    f"{dvt.redact(str(exc))}"
                ) from None
            try:
                stage_relation = self.adapter.Relation.create(
                    database=model.database, schema=model.schema, identifier=stage.name
                )
                model.compiled_code = f"select * from {stage_relation}"
                if original_materialized == "view":
                    events.warn(
                        "DVT001",
                        f"{model.unique_id} is a view over other targets; "
                        "under federation it is materialized as a table.",
                    )
                    model.config.materialized = "table"
                result = super().execute(model, manifest)
            finally:
                model.compiled_code = original_sql
                model.config.materialized = original_materialized
                target.drop_stage(stage)
        elapsed = time.perf_counter() - started
        summary = {
            "path": resolution.label,
            "targets": list(resolution.input_targets),
            "target": resolution.target,
            "compute": engine.name,
            "rows": rows,
            "extractions": [
                {"input": e.input.unique_id, "target": e.input.target, "sql": e.sql}
                for e in plan.extractions
            ],
            "engine_sql": plan.engine_sql,
            "seconds": round(elapsed, 3),
        }
        result.adapter_response = {**(result.adapter_response or {}), "dvt": summary}
        read = ", ".join(resolution.input_targets)
        result.message = f"federation [{read}] -> {resolution.target} {rows:,} rows"
        return result


def plan_targets(resolution: Any) -> list[str]:
    return [repr(t) for t in resolution.input_targets]
