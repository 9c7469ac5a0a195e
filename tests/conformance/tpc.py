"""TPC-H and TPC-DS from DuckDB's own generators (the tpch and tpcds extensions, from their PyPI
packages), split between the PostgreSQL target and a DuckDB file, with every table also copied
into one PostgreSQL schema: the oracle runs each query there natively.

The queries come as DuckDB SQL text. Each is parsed with SQLGlot (DuckDB dialect), its table
references (not CTE names) are replaced by `{table}` placeholders, keeping a table that had no
alias under its own name so `lineitem.l_orderkey` still resolves, and it is written back as
PostgreSQL SQL: the dialect of the target the models live on, and of the oracle.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conformance.harness import Case, Suite, Ties, oracle_answers
from tests.servers.postgres import PostgresServer

#: TPC-DS tables: the facts live on PostgreSQL, the dimensions on DuckDB (tests and bench).
TPCDS_FACTS = (
    "store_sales",
    "store_returns",
    "catalog_sales",
    "catalog_returns",
    "web_sales",
    "web_returns",
    "inventory",
)
TPCDS_DIMENSIONS = (
    "call_center",
    "catalog_page",
    "customer",
    "customer_address",
    "customer_demographics",
    "date_dim",
    "household_demographics",
    "income_band",
    "item",
    "promotion",
    "reason",
    "ship_mode",
    "store",
    "time_dim",
    "warehouse",
    "web_page",
    "web_site",
)

ORACLE_SCHEMA = "oracle"


def extension(name: str) -> Path:
    """The extension binary inside its PyPI package, as DVT's engine finds its scanners."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    assert spec is not None and spec.submodule_search_locations, (
        f"install duckdb-extension-{name} (the dev extra has it)"
    )
    found = sorted(Path(spec.submodule_search_locations[0]).rglob(f"{name}.duckdb_extension"))
    assert found, f"duckdb_extension_{name} holds no {name}.duckdb_extension"
    return found[-1]


def generate(benchmark: str, scale: float) -> Any:
    """An in-memory DuckDB holding the benchmark's tables at `scale`."""
    import duckdb

    conn = duckdb.connect(":memory:")
    conn.execute("SET enable_progress_bar = false")
    conn.execute(f"LOAD '{extension(benchmark)}'")
    conn.execute(f"CALL {'dbgen' if benchmark == 'tpch' else 'dsdgen'}(sf={scale})")
    return conn


def queries(conn: Any, benchmark: str) -> list[tuple[int, str]]:
    rows = conn.execute(f"select query_nr, query from {benchmark}_queries() order by 1").fetchall()
    return [(int(n), str(q)) for n, q in rows]


_TYPES = {
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "BOOLEAN": "boolean",
}


def pg_type(duck_type: str) -> str:
    """PostgreSQL's type for a copy of a DuckDB column (DECIMAL(p,s) stays numeric(p,s))."""
    decimal = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duck_type)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    return _TYPES[duck_type]


def copy_to_postgres(
    conn: Any,
    tables: Iterable[str],
    dsn: str,
    schema: str,
    folder: Path,
    indexes: Sequence[tuple[str, str]] = (),
) -> None:
    """Create each table in PostgreSQL and load it with COPY from a CSV that DuckDB writes;
    `indexes` are (table, columns) to index (an index never changes an answer, only how long
    PostgreSQL takes to give it)."""
    import psycopg2

    with psycopg2.connect(dsn) as pg, pg.cursor() as cur:
        cur.execute(f"create schema if not exists {schema}")
        for table in tables:
            columns = conn.execute(f"describe {table}").fetchall()
            ddl = ", ".join(f'"{name}" {pg_type(kind)}' for name, kind, *_ in columns)
            cur.execute(f"create table {schema}.{table} ({ddl})")
            path = folder / f"{table}.csv"
            # NULL is an empty field, an empty string is "" (DuckDB quotes it): COPY's CSV rules.
            conn.execute(f"copy {table} to '{path}' (format csv, header false)")
            with path.open() as csv:
                cur.copy_expert(f"copy {schema}.{table} from stdin with (format csv)", csv)
            path.unlink()
            for indexed, columns in indexes:
                if indexed == table:
                    cur.execute(f"create index on {schema}.{table} ({columns})")
            cur.execute(f"analyze {schema}.{table}")
    pg.close()


def copy_to_duckdb(conn: Any, tables: Iterable[str], path: Path, schema: str) -> None:
    conn.execute(f"attach '{path}' as lake")
    conn.execute(f"create schema if not exists lake.{schema}")
    for table in tables:
        conn.execute(f"create table lake.{schema}.{table} as select * from {table}")
    conn.execute("detach lake")


def template(sql: str, tables: Sequence[str]) -> str:
    """The query as PostgreSQL SQL with each benchmark table written `{table}`."""
    import sqlglot
    import sqlglot.expressions as exp

    tree = sqlglot.parse_one(sql.strip().rstrip(";"), read="duckdb")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        name = table.name.lower()
        if table.db or name in ctes or name not in tables:
            continue
        alias = table.alias or name
        table.replace(
            exp.Table(
                this=exp.to_identifier(f"dvt_tpc_table_{name}"),
                alias=exp.TableAlias(this=exp.to_identifier(alias)),
            )
        )
    text = tree.sql(dialect="postgres", pretty=True)
    return re.sub(r"\bdvt_tpc_table_(\w+)\b", r"{\1}", text)


@dataclass
class Benchmark:
    """One benchmark's world: which tables live where, and the profile outputs."""

    name: str
    postgres: PostgresServer
    database: str
    duck_file: Path
    on_postgres: tuple[str, ...]
    on_duckdb: tuple[str, ...]

    @property
    def tables(self) -> tuple[str, ...]:
        return self.on_postgres + self.on_duckdb

    def outputs(self) -> dict[str, dict[str, Any]]:
        from tests.functional.projects import duck_output, pg_output

        return {
            "pg": pg_output(self.postgres, self.database, "analytics"),
            "duck": duck_output(self.duck_file, self.name),
        }

    def sources_yml(self) -> str:
        def tables(names: Sequence[str]) -> str:
            return ", ".join("{name: " + n + "}" for n in names)

        return (
            "sources:\n"
            f"  - name: {self.name}_pg\n    schema: {self.name}\n    config: {{connection: pg}}\n"
            f"    tables: [{tables(self.on_postgres)}]\n"
            f"  - name: {self.name}_duck\n    schema: {self.name}\n    config: {{connection: duck}}\n"
            f"    tables: [{tables(self.on_duckdb)}]\n"
        )

    def source_calls(self) -> dict[str, str]:
        calls = {t: f"{{{{ source('{self.name}_pg', '{t}') }}}}" for t in self.on_postgres}
        calls |= {t: f"{{{{ source('{self.name}_duck', '{t}') }}}}" for t in self.on_duckdb}
        return calls

    def oracle_relations(self) -> dict[str, str]:
        return {t: f"{ORACLE_SCHEMA}.{t}" for t in self.tables}


def build(
    name: str,
    scale: float,
    postgres: PostgresServer,
    folder: Path,
    on_postgres: Sequence[str],
    on_duckdb: Sequence[str],
    indexes: Sequence[tuple[str, str]] = (),
) -> tuple[Benchmark, list[Case]]:
    """Generate the data, load each side and the oracle, and turn the queries into cases."""
    bench = Benchmark(
        name, postgres, name, folder / "lake.duckdb", tuple(on_postgres), tuple(on_duckdb)
    )
    postgres.create_database(bench.database)
    dsn = postgres.dsn_for(bench.database)
    conn = generate(name, scale)
    try:
        present = {r[0] for r in conn.execute("show tables").fetchall()}
        assert present == set(bench.tables), sorted(present ^ set(bench.tables))
        copy_to_postgres(conn, bench.on_postgres, dsn, name, folder, indexes)
        copy_to_postgres(conn, bench.tables, dsn, ORACLE_SCHEMA, folder, indexes)
        copy_to_duckdb(conn, bench.on_duckdb, bench.duck_file, name)
        cases = [
            Case(f"{name}_q{number:02d}", template(sql, bench.tables), name)
            for number, sql in queries(conn, name)
        ]
    finally:
        conn.close()
    return bench, cases


def suite(bench: Benchmark, cases: Sequence[Case], folder: Path) -> Suite:
    """A project with one table model per query PostgreSQL can run; the others are excluded."""
    from tests.functional.projects import Project, dbt_project_yml

    dsn = bench.postgres.dsn_for(bench.database)
    expected = oracle_answers(dsn, cases, bench.oracle_relations())
    runnable = [c for c in cases if expected[c.name].error is None]
    for case in runnable:
        expected[case.name].ties = limit_ties(dsn, case.render(bench.oracle_relations()))
    calls = bench.source_calls()
    files = {
        "dbt_project.yml": dbt_project_yml(
            bench.name, f"models:\n  {bench.name}:\n    +materialized: table\n"
        ),
        "models/sources.yml": bench.sources_yml(),
        **{f"models/{c.name}.sql": c.render(calls) + "\n" for c in runnable},
    }
    project = Project(folder).write(files).profiles(bench.outputs(), "pg")
    return Suite(
        project.root,
        dsn,
        "analytics",
        runnable,
        bench.oracle_relations(),
        legend=f"inputs: {', '.join(bench.on_postgres)} on pg (the target); "
        f"{', '.join(bench.on_duckdb)} on duck",
        expected={c.name: expected[c.name] for c in runnable},
        excluded={c.name: str(expected[c.name].error) for c in cases if c not in runnable},
    )


def ranked_sql(sql: str) -> tuple[str, int] | None:
    """For a query ending in ORDER BY ... LIMIT n: the query without them, each row followed by
    its rank in that order, and n. None when the order keys are not all output columns."""
    import sqlglot
    import sqlglot.expressions as exp

    tree = sqlglot.parse_one(sql, read="postgres")
    limit, order = tree.args.get("limit"), tree.args.get("order")
    if limit is None or order is None or not isinstance(tree, exp.Query):
        return None
    count = limit.expression
    if not (isinstance(count, exp.Literal) and count.is_int):
        return None
    selects = tree.selects
    if any(s.find(exp.Star) for s in selects):
        return None
    # Output columns by position, since PostgreSQL names unnamed ones ("sum", "?column?").
    by_expression = {_unqualified(s.unalias()): i for i, s in enumerate(selects)}
    by_name = {s.alias_or_name: i for i, s in enumerate(selects) if s.alias_or_name}
    keys = []
    for ordered in order.expressions:
        key, this = ordered.copy(), ordered.this
        if isinstance(this, exp.Literal) and this.is_int and int(this.this) <= len(selects):
            index = int(this.this) - 1
        elif _unqualified(this) in by_expression:
            index = by_expression[_unqualified(this)]
        elif isinstance(this, exp.Column) and not this.table and this.name in by_name:
            index = by_name[this.name]
        else:
            return None  # ordered by something the output does not show
        key.set("this", exp.column(f"dvt_c{index}", quoted=True))
        keys.append(key)
    tree.set("limit", None)
    tree.set("order", None)
    aliases = ", ".join(f'"dvt_c{i}"' for i in range(len(selects)))
    rank = exp.Window(this=exp.Anonymous(this="rank"), order=exp.Order(expressions=keys))
    ranked = (
        f"select q.*, {rank.sql(dialect='postgres')} as dvt_rank "
        f"from ({tree.sql(dialect='postgres')}) as q({aliases}) order by dvt_rank"
    )
    return ranked, int(count.this)


def _unqualified(expression: Any) -> str:
    import sqlglot.expressions as exp

    copy = expression.copy()
    for column in copy.find_all(exp.Column):
        column.set("table", None)
    return str(copy.sql(dialect="postgres"))


def limit_ties(dsn: str, sql: str) -> Ties | None:
    """The rows before and at the cut of a LIMIT that cuts through ties, on the oracle."""
    import psycopg2

    ranked = ranked_sql(sql)
    if ranked is None:
        return None
    query, size = ranked
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            rows = cur.fetchall()
    finally:
        conn.close()
    if len(rows) <= size:
        return None
    cut = rows[size - 1][-1]
    before = [r[:-1] for r in rows if r[-1] < cut]
    tied = [r[:-1] for r in rows if r[-1] == cut]
    if len(before) + len(tied) == size:
        return None  # the cut falls between two ranks: one answer
    return Ties(before, tied, size)
