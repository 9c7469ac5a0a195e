"""`dvt compile` and `dvt run-operation --target` in a multi-target project (issue: target-aware
commands): each node compiles with its own target's relation names and SQL, and an operation runs
on the target asked for."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.functional.projects import Project
from tests.functional.test_targets import multi  # noqa: F401 - the shared project fixture
from tests.servers.postgres import PostgresServer

MACRO = """\
{% macro record_target(label) %}
  {% set ops = api.Relation.create(database=target.database, schema=target.schema, identifier='ops') %}
  {% do adapter.create_schema(ops) %}
  {% do run_query("create table if not exists " ~ ops ~ " (label text, kind text)") %}
  {% do run_query("insert into " ~ ops ~ " values ('" ~ label ~ "', '" ~ target.type ~ "')") %}
  {{ log("recorded on " ~ target.name ~ " (" ~ target.type ~ ")", info=True) }}
{% endmacro %}
"""


def test_compile_uses_each_nodes_target(multi: Project) -> None:  # noqa: F811
    compiled = multi.cli("dvt", "compile")
    assert compiled.returncode == 0, compiled.stdout[-3000:]
    out = multi.root / "target" / "compiled" / "multi" / "models"
    duck_sql = (out / "lake" / "duck_regions.sql").read_text()
    pg_sql = (out / "pg_sales_view.sql").read_text()
    database = multi.database  # type: ignore[attr-defined]
    assert '"lake"."lake"."regions"' in duck_sql  # the seed lives on the DuckDB target
    assert f'"{database}"."analytics"."pg_sales"' in pg_sql
    mixed = (out / "mixed.sql").read_text()  # a federated model names both targets' relations
    assert (
        '"lake"."lake"."duck_regions"' in mixed and f'"{database}"."analytics"."pg_sales"' in mixed
    )


def test_run_operation_runs_on_the_target_asked_for(
    multi: Project,  # noqa: F811
    postgres: PostgresServer,
) -> None:
    multi.write({"macros/record_target.sql": MACRO})
    on_duck = multi.cli(
        "dvt", "run-operation", "record_target", "--args", "{label: a}", "--target", "duck"
    )
    assert on_duck.returncode == 0, on_duck.stdout[-3000:]
    assert "recorded on duck (duckdb)" in on_duck.stdout
    on_default = multi.cli("dvt", "run-operation", "record_target", "--args", "{label: b}")
    assert on_default.returncode == 0, on_default.stdout[-3000:]
    assert "recorded on pg (postgres)" in on_default.stdout
    with duckdb.connect(str(Path(multi.duck_file))) as conn:  # type: ignore[attr-defined]
        assert conn.execute("select * from lake.lake.ops").fetchall() == [("a", "duckdb")]
    database = multi.database  # type: ignore[attr-defined]
    assert postgres.psql("select label || ':' || kind from analytics.ops", database) == "b:postgres"
