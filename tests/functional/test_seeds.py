"""`dvt seed` loads in bulk and creates the table `dbt seed` creates (issue: seeds).

Each parity test seeds the same CSVs with dbt into one schema and with dvt into another, then
compares column names, types and rows. Bad CSVs must fail with the file and line and leave the
table that was there before untouched.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.functional.projects import Project, dbt_project_yml, duck_output, pg_output
from tests.servers.postgres import PostgresServer

#: Every type dbt's seed inference can give, quoting, embedded delimiters and newlines, unicode,
#: empty values, the string "null", and whole numbers written with a fraction.
KINDS_CSV = (
    "id,name,price,whole,day,stamp,iso_stamp,flag,note\n"
    '1,Ann,10.5,1.0,2024-01-05,2024-01-05 10:00:00,2024-01-05T10:00:00,true,"a, b"\n'
    '2,"Bob ""B"" Jr.",3.25,2,2024-02-29,2024-02-29 23:59:59,2024-02-29T23:59:59.123456,False,"two\nlines"\n'
    "3,Chloé 日本,,3.000,,,,,\n"
    "4,null,-0.5,-4,2023-12-31,2023-12-31 00:00:00,2023-12-31T00:00:00.5,TRUE,  \n"
    '5,"",7,5,1999-01-01,1999-01-01 12:00:00,1999-01-01T12:00:00,false,null\n'
)
#: Values only agate can read: currency, percent, group separators, exponents, padded and
#: unpadded dates, spaced booleans. dbt-duckdb's file COPY cannot read them, so PostgreSQL only.
AGATE_CSV = (
    "money,percent,grouped,expo,loose_day,spaced_flag,spaced_text\n"
    '$1.50,50%,"1,000",1e3,2024-1-5, true ,\t\n'
    '€2,7.5%,"12,345.67",2E-2,2024-01-06,FALSE, x \n'
    "-$3,,,,,,\n"
)
OVERRIDES_CSV = "code;amount;label\n007;12.345;x\n010;1;y\n"
HEADER_ONLY_CSV = "id,name\n"
SEED_CONFIG = """\
seeds:
  seeds:
    overrides:
      +delimiter: ";"
      +quote_columns: true
      +column_types: {code: varchar(5), amount: "numeric(10,2)"}
"""


def seed_project(root: Path, output: dict[str, Any], files: dict[str, str]) -> Project:
    project = Project(root).write({"dbt_project.yml": dbt_project_yml("seeds", SEED_CONFIG)})
    (root / "seeds").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")
    return project.profiles({"main": output}, "main")


def pg_columns(server: PostgresServer, schema: str, table: str) -> list[tuple[Any, ...]]:
    import psycopg2

    with psycopg2.connect(server.dsn_for("postgres")) as conn, conn.cursor() as cur:
        cur.execute(
            "select column_name, data_type, numeric_precision, numeric_scale, "
            "character_maximum_length from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        return cur.fetchall()


def pg_table(server: PostgresServer, schema: str, table: str) -> list[tuple[Any, ...]]:
    import psycopg2

    with psycopg2.connect(server.dsn_for("postgres")) as conn, conn.cursor() as cur:
        cur.execute(f'select * from "{schema}"."{table}"')
        return sorted(cur.fetchall(), key=repr)


def duck_columns(path: Path, table: str) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(path)) as conn:
        return conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_name = ? order by ordinal_position",
            [table],
        ).fetchall()


def duck_table(path: Path, table: str) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(path)) as conn:
        return sorted(conn.execute(f'select * from "{table}"').fetchall(), key=repr)


def bulk_loaded(project: Project) -> set[str]:
    """Seeds the last invocation loaded through DVT's bulk path (its debug log line)."""
    log = (project.root / "logs" / "dbt.log").read_text().rsplit("Running with dbt=", 1)[-1]
    return set(re.findall(r"Bulk seed seed\.\w+\.(\w+):", log))


def rows_affected(project: Project) -> dict[str, int]:
    results = project.artifact("run_results.json")["results"]
    return {r["unique_id"].split(".")[-1]: r["adapter_response"]["rows_affected"] for r in results}


@pytest.mark.parametrize("refresh", [False, True], ids=["first-load", "full-refresh"])
def test_postgres_seed_matches_dbt(postgres: PostgresServer, tmp_path: Path, refresh: bool) -> None:
    files = {
        "kinds.csv": KINDS_CSV,
        "agate.csv": AGATE_CSV,
        "overrides.csv": OVERRIDES_CSV,
        "header_only.csv": HEADER_ONLY_CSV,
    }
    suffix = "_fr" if refresh else ""
    by_dbt = seed_project(
        tmp_path / "dbt", pg_output(postgres, "postgres", f"dbt_seed{suffix}"), files
    )
    by_dvt = seed_project(
        tmp_path / "dvt", pg_output(postgres, "postgres", f"dvt_seed{suffix}"), files
    )
    extra = ["--full-refresh"] if refresh else []
    assert by_dbt.dbt("seed").success
    if refresh:
        assert by_dvt.dvt("seed").success
    assert by_dvt.dvt("seed", *extra).success

    for table in ("kinds", "agate", "overrides", "header_only"):
        assert pg_columns(postgres, f"dvt_seed{suffix}", table) == pg_columns(
            postgres, f"dbt_seed{suffix}", table
        ), table
        assert pg_table(postgres, f"dvt_seed{suffix}", table) == pg_table(
            postgres, f"dbt_seed{suffix}", table
        ), table
    assert rows_affected(by_dvt) == {"kinds": 5, "agate": 3, "overrides": 2, "header_only": 0}
    assert bulk_loaded(by_dvt) == {"kinds", "agate", "overrides"}  # not dbt's agate path
    types = {c[0]: c[1] for c in pg_columns(postgres, f"dvt_seed{suffix}", "kinds")}
    assert types == {
        "id": "integer",
        "name": "text",
        "price": "double precision",
        "whole": "integer",
        "day": "date",
        "stamp": "timestamp without time zone",
        "iso_stamp": "timestamp without time zone",
        "flag": "boolean",
        "note": "text",
    }


def test_duckdb_seed_matches_dbt(tmp_path: Path) -> None:
    files = {
        "kinds.csv": KINDS_CSV,
        "overrides.csv": OVERRIDES_CSV,
        "header_only.csv": HEADER_ONLY_CSV,
    }
    by_dbt = seed_project(tmp_path / "dbt", duck_output(tmp_path / "dbt.duckdb"), files)
    by_dvt = seed_project(tmp_path / "dvt", duck_output(tmp_path / "dvt.duckdb"), files)
    assert by_dbt.dbt("seed").success
    assert by_dvt.dvt("seed").success
    for table in ("kinds", "overrides", "header_only"):
        assert duck_columns(tmp_path / "dvt.duckdb", table) == duck_columns(
            tmp_path / "dbt.duckdb", table
        )
        assert duck_table(tmp_path / "dvt.duckdb", table) == duck_table(
            tmp_path / "dbt.duckdb", table
        )
    assert rows_affected(by_dvt) == {"kinds": 5, "overrides": 2, "header_only": 0}
    assert bulk_loaded(by_dvt) == {"kinds", "overrides"}  # not dbt's agate path


def _late(header: str, head_value: str, late_value: str) -> str:
    """A CSV whose first 250 rows agree and whose 251st row is of another kind."""
    rows = [f"{i},{head_value}" for i in range(1, 251)] + [f"251,{late_value}", f"252,{head_value}"]
    return "\n".join([f"id,{header}", *rows]) + "\n"


#: Files the load starts with the first rows' types, then learns otherwise: a later value makes
#: the column another type (the node runs again), or keeps its type but cannot be loaded as
#: written (the load falls back). name -> (file, whether the table's types change).
LATE_CSVS = {
    "late_float": (_late("amount", "7", "2.5"), True),
    "late_text": (_late("day", "2024-01-05", "soon"), True),
    "late_null": (_late("flag", "true", "null"), False),
    "late_whole": (_late("whole", "3", "3.000"), False),
    # Written as a timestamp, but no such day: agate reads text.
    "late_no_such_day": (_late("stamp", "2024-01-05 10:00:00", "2024-02-30 10:00:00"), True),
    # Empty in the first rows: agate reads '' (which dbt's Integer type fails), DuckDB NULL.
    "late_empty": (_late("amount", "", "2.5"), True),
}


@pytest.mark.parametrize("target", ["pg", "duck"])
def test_rows_after_the_head_decide_types_as_in_dbt(
    postgres: PostgresServer, tmp_path: Path, target: str
) -> None:
    # dbt-duckdb's file COPY cannot read "null" in a boolean column: dbt fails there too.
    late = {k: v for k, v in LATE_CSVS.items() if target == "pg" or k != "late_null"}
    files = {f"{name}.csv": text for name, (text, _) in late.items()}
    if target == "pg":
        outputs = [pg_output(postgres, "postgres", f"{tool}_late") for tool in ("dbt", "dvt")]
    else:
        outputs = [duck_output(tmp_path / f"{tool}.duckdb") for tool in ("dbt", "dvt")]
    by_dbt = seed_project(tmp_path / "dbt", outputs[0], files)
    by_dvt = seed_project(tmp_path / "dvt", outputs[1], files)
    assert by_dbt.dbt("seed").success
    # A first load, then --full-refresh over the tables it made (the retry must find them).
    assert by_dvt.dvt("seed").success
    assert by_dvt.dvt("seed", "--full-refresh").success
    for table in late:
        if target == "pg":
            columns, rows = (
                pg_columns(postgres, "dvt_late", table),
                pg_table(postgres, "dvt_late", table),
            )
            assert columns == pg_columns(postgres, "dbt_late", table), table
            assert rows == pg_table(postgres, "dbt_late", table), table
        else:
            columns = duck_columns(tmp_path / "dvt.duckdb", table)
            assert columns == duck_columns(tmp_path / "dbt.duckdb", table), table
            rows = duck_table(tmp_path / "dvt.duckdb", table)
            assert rows == duck_table(tmp_path / "dbt.duckdb", table), table
        assert len(rows) == 252
    assert bulk_loaded(by_dvt) == set(late)
    assert rows_affected(by_dvt) == dict.fromkeys(late, 252)
    log = (by_dvt.root / "logs" / "dbt.log").read_text()
    again = set(re.findall(r"Bulk seed seed\.\w+\.(\w+): .*; loading it again", log))
    changed = {name for name, (_, types_change) in late.items() if types_change}
    if target == "pg":  # the full check ran beside the COPY; only new types run the node again
        assert again == changed
    else:  # one checked load: any value it cannot take runs the node again with dbt's own COPY
        assert again == set(late)


def test_reload_keeps_dependent_views_and_reports_rows(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    import psycopg2

    project = seed_project(
        tmp_path, pg_output(postgres, "postgres", "reload"), {"kinds.csv": KINDS_CSV}
    )
    assert project.dvt("seed").success
    with psycopg2.connect(postgres.dsn_for("postgres")) as conn, conn.cursor() as cur:
        cur.execute("create view reload.kinds_view as select id from reload.kinds")
    (tmp_path / "seeds" / "kinds.csv").write_text(KINDS_CSV + "6,Dee,1,1,,,,,\n", encoding="utf-8")
    shown = project.cli("dvt", "seed", "--show")
    assert shown.returncode == 0, shown.stdout[-3000:]
    assert "INSERT 6" in shown.stdout
    assert "Random sample of table: reload.kinds" in shown.stdout
    assert len(pg_table(postgres, "reload", "kinds_view")) == 6  # the view survived the reload


#: case -> (file content, expected message, exit code). dbt reads a seed under 1 MiB while
#: parsing, so a file that is not UTF-8 stops the parse (exit 2) before any node runs.
BAD_CSVS = {
    "ragged": ("id,name\n1,a\n2,b,c\n", "seeds/people.csv, line 3", 1),
    "short-row": ("id,name\n1,a\n2\n", "seeds/people.csv, line 3", 1),
    "duplicate-header": ("id,id\n1,2\n", "the header repeats id", 1),
    "empty-header": ("id,,name\n1,2,3\n", "column 2 of the header is empty", 1),
    "not-utf8": (
        "id,name\n1,caf\xe9\n".encode("latin-1"),
        "people.csv, line 2: the file is not UTF-8",
        2,
    ),
    "empty-file": ("", "the file is empty", 1),
    "bad-override": (
        "id,name\n1,a\nx2,b\n",
        "seeds/people.csv, line 3: column 'id' has the value 'x2', which its column_types override "
        "'integer' cannot hold (PostgreSQL: invalid input syntax for type integer: \"x2\")",
        1,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_bad_csv_fails_clearly_and_keeps_the_table(
    postgres: PostgresServer, tmp_path: Path, case: str
) -> None:
    schema = f"bad_{case.replace('-', '_')}"
    config = "seeds:\n  bad:\n    people:\n      +column_types: {id: integer}\n"
    project = Project(tmp_path).write({"dbt_project.yml": dbt_project_yml("bad", config)})
    project.profiles({"main": pg_output(postgres, "postgres", schema)}, "main")
    seed = tmp_path / "seeds" / "people.csv"
    seed.parent.mkdir()
    seed.write_text("id,name\n1,kept\n2,also kept\n")
    assert project.dvt("seed").success
    before = pg_table(postgres, schema, "people")

    content, expected, exit_code = BAD_CSVS[case]
    seed.write_bytes(content if isinstance(content, bytes) else content.encode())
    for extra in ([], ["--full-refresh"]):
        done = project.cli("dvt", "seed", *extra)
        assert done.returncode == exit_code, done.stdout[-3000:]
        assert expected in done.stdout, done.stdout[-3000:]
        assert pg_table(postgres, schema, "people") == before


#: A value that does not fit a `column_types` override, after a value written on two lines:
#: (target, override, CSV, the bad value's line, the value, the database's reason).
MISFITS = {
    "pg-varchar": (
        "pg",
        "varchar(3)",
        'code,note\nabc,"two\nlines"\nab,x\nabcd,y\n',
        5,
        "'abcd'",
        "PostgreSQL: value too long for type character varying(3)",
    ),
    "pg-numeric": (
        "pg",
        '"numeric(3,1)"',
        'code,note\n1.5,"two\nlines"\n1000,x\n',
        4,
        "'1000'",
        "PostgreSQL: numeric field overflow",
    ),
    "duck-smallint": (
        "duck",
        "smallint",
        'code,note\n1,"two\nlines"\n99999,x\n',
        4,
        "'99999'",
        "DuckDB: could not convert it to SMALLINT",
    ),
}


@pytest.mark.parametrize("case", sorted(MISFITS))
def test_a_value_an_override_cannot_hold_names_file_line_column_and_override(
    postgres: PostgresServer, tmp_path: Path, case: str
) -> None:
    """Not the database's error with COPY's line (one too low: the stream DVT sends has no
    header) or no line at all: the file's line, header counted as line 1."""
    target, override, content, line, value, reason = MISFITS[case]
    config = f"seeds:\n  bad:\n    codes:\n      +column_types: {{code: {override}}}\n"
    project = Project(tmp_path).write({"dbt_project.yml": dbt_project_yml("bad", config)})
    schema = f"misfit_{case.replace('-', '_')}"
    output = pg_output(postgres, "postgres", schema) if target == "pg" else None
    project.profiles({"main": output or duck_output(tmp_path / "w.duckdb")}, "main")
    seed = tmp_path / "seeds" / "codes.csv"
    seed.parent.mkdir()
    seed.write_text("code,note\n1,kept\n")
    assert project.cli("dvt", "seed").returncode == 0
    seed.write_text(content)
    done = project.cli("dvt", "seed")
    assert done.returncode == 1, done.stdout[-3000:]
    expected = (
        f"Seed file seeds/codes.csv, line {line}: column 'code' has the value {value}, which its "
        f"column_types override '{override.strip(chr(34))}' cannot hold ({reason}). Fix the value "
        "or the override and seed again; the existing table was left as it was."
    )
    assert expected in done.stdout, done.stdout[-3000:]
    if target == "pg":
        assert pg_table(postgres, schema, "codes") == [
            (Decimal(1) if "numeric" in override else "1", "kept")
        ]
    else:
        assert duck_table(tmp_path / "w.duckdb", "codes") == [(1, "kept")]


def test_bad_override_value_on_duckdb_keeps_the_table(tmp_path: Path) -> None:
    config = "seeds:\n  bad:\n    people:\n      +column_types: {id: integer}\n"
    project = Project(tmp_path).write({"dbt_project.yml": dbt_project_yml("bad", config)})
    project.profiles({"main": duck_output(tmp_path / "w.duckdb")}, "main")
    seed = tmp_path / "seeds" / "people.csv"
    seed.parent.mkdir()
    seed.write_text("id,name\n1,kept\n")
    assert project.cli("dvt", "seed").returncode == 0  # a process of its own: DuckDB locks the file
    seed.write_text("id,name\n1,a\nx2,b\n")
    done = project.cli("dvt", "seed")
    assert done.returncode == 1
    assert "x2" in done.stdout
    assert duck_table(tmp_path / "w.duckdb", "people") == [(1, "kept")]


def test_seed_to_a_source_only_connection_is_refused(tmp_path: Path) -> None:
    config = "seeds:\n  ro:\n    people:\n      +target: shop\n"
    project = Project(tmp_path).write({"dbt_project.yml": dbt_project_yml("ro", config)})
    project.profiles(
        {
            "main": duck_output(tmp_path / "w.duckdb"),
            "shop": {"type": "sqlite", "path": str(tmp_path / "s.db")},
        },
        "main",
    )
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "people.csv").write_text("id\n1\n")
    done = project.cli("dvt", "seed")
    assert done.returncode != 0
    assert "source-only" in done.stdout and "shop" in done.stdout


def test_a_project_load_macro_or_fast_false_keeps_dbts_own_path(tmp_path: Path) -> None:
    """A project that loads seeds its own way (or dbt-duckdb's `fast: false`) gets dbt's path."""
    config = "seeds:\n  own:\n    slow:\n      +fast: false\n"
    project = Project(tmp_path).write({"dbt_project.yml": dbt_project_yml("own", config)})
    project.profiles({"main": duck_output(tmp_path / "w.duckdb")}, "main")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "fast.csv").write_text("id\n1\n2\n")
    (tmp_path / "seeds" / "slow.csv").write_text("id\n3\n")
    assert project.cli("dvt", "seed").returncode == 0
    assert bulk_loaded(project) == {"fast"}
    assert duck_table(tmp_path / "w.duckdb", "slow") == [(3,)]
    project.write(
        {
            "macros/load.sql": """\
                {% macro duckdb__load_csv_rows(model, agate_table) %}
                  {{ return(default__load_csv_rows(model, agate_table)) }}
                {% endmacro %}
                """
        }
    )
    assert project.cli("dvt", "seed").returncode == 0
    assert bulk_loaded(project) == set()
    assert duck_table(tmp_path / "w.duckdb", "fast") == [(1,), (2,)]


@pytest.mark.parametrize("target", ["pg", "duck"])
@pytest.mark.parametrize("delimiter", ["", ";;", "\\t\\t"], ids=["empty", "two", "two-tabs"])
def test_a_delimiter_dbt_rejects_fails_as_in_dbt(
    request: pytest.FixtureRequest, tmp_path: Path, target: str, delimiter: str
) -> None:
    config = f'seeds:\n  +delimiter: "{delimiter}"\n'
    results = {}
    for tool in ("dbt", "dvt"):
        if target == "pg":
            server = request.getfixturevalue("postgres")
            output = pg_output(server, "postgres", f"delim_{tool}_{tmp_path.name[-12:]}")
        else:
            output = duck_output(tmp_path / f"{tool}.duckdb")
        project = Project(tmp_path / tool).write(
            {"dbt_project.yml": dbt_project_yml("seeds", config), "seeds/codes.csv": "a,b\n1,2\n"}
        )
        project.profiles({"main": output}, "main")
        done = getattr(project, tool)("seed")
        assert not done.success
        (result,) = done.result.results
        results[tool] = (result.status, result.message, type(result).__name__)
    assert results["dvt"] == results["dbt"]
    assert results["dvt"][1].startswith("Compilation Error in seed codes")
    assert '"delimiter" must be a 1-character string' in results["dvt"][1]
