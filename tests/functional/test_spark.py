"""Federation on Apache Spark (the engine placement): the same models give the same rows as
on their targets."""

from __future__ import annotations

import pytest
import yaml

from tests.functional.databases import duck_rows, pg_rows
from tests.functional.projects import Project
from tests.functional.test_federation import fed  # noqa: F401 - the shared project fixture
from tests.servers.postgres import PostgresServer
from tests.servers.spark import SparkConnectServer

pytestmark = [pytest.mark.spark, pytest.mark.postgres, pytest.mark.duckdb]


def test_spark_gives_the_duckdb_answer(fed: Project, postgres: PostgresServer) -> None:  # noqa: F811
    database = fed.database  # type: ignore[attr-defined]
    duck_file = fed.duck_file  # type: ignore[attr-defined]
    on_duckdb = fed.cli("dvt", "run")  # processes of their own: DuckDB locks its file
    assert on_duckdb.returncode == 0, on_duckdb.stdout[-4000:]
    expected = {
        "customer_orders": pg_rows(postgres, database, "analytics.customer_orders"),
        "big_orders": duck_rows(duck_file, "lake.lake.big_orders"),
        "active_big_spenders": duck_rows(duck_file, "lake.lake.active_big_spenders"),
        "orders_incremental": duck_rows(duck_file, "lake.lake.orders_incremental"),
    }
    on_spark = fed.cli("dvt", "run", "--compute", "spark", "--placement", "engine")
    assert on_spark.returncode == 0, on_spark.stdout[-4000:]
    assert "Initializing spark compute for federation" in on_spark.stdout
    assert pg_rows(postgres, database, "analytics.customer_orders") == expected["customer_orders"]
    assert duck_rows(duck_file, "lake.lake.big_orders") == expected["big_orders"]
    assert duck_rows(duck_file, "lake.lake.active_big_spenders") == expected["active_big_spenders"]
    assert duck_rows(duck_file, "lake.lake.orders_incremental") == expected["orders_incremental"]
    # Incremental runs on Spark: test_federation_incremental.py (INCREMENTAL_CASES).


def test_a_standalone_cluster_runs_a_federated_build(
    fed: Project,  # noqa: F811
    postgres: PostgresServer,
) -> None:
    from tests.servers.spark import SparkCluster

    database = fed.database  # type: ignore[attr-defined]
    duck_file = fed.duck_file  # type: ignore[attr-defined]
    with SparkCluster.start(cores=2, memory="1g") as cluster:
        computes = {
            "test": {
                "computes": {
                    "cluster": {
                        "type": "spark",
                        "master": cluster.master_url,
                        "config": {"spark.executor.memory": "512m", "spark.cores.max": "2"},
                        "jdbc": {"num_partitions": 2},
                    }
                }
            }
        }
        (fed.root / "computes.yml").write_text(yaml.safe_dump(computes))
        built = fed.cli(
            "dvt", "build", "--compute", "cluster", "--placement", "engine",
            "--exclude", "orders_incremental",
        )  # fmt: skip
        applications = [a.name for a in (cluster.folder / "work").iterdir()]
    assert built.returncode == 0, built.stdout[-4000:]
    assert any(a.startswith("app-") for a in applications)  # executors ran on the worker
    assert "Initializing cluster compute for federation" in built.stdout
    assert pg_rows(postgres, database, "analytics.customer_orders") == [
        (1, "Ann", "New Zealand", 2, 55),
        (2, "Bob", "United States", 2, 72),
        (4, "Dee", "France", 0, None),
    ]
    assert duck_rows(duck_file, "lake.lake.big_orders") == [
        (103, 99, "Chloé"),
        (104, 60, "Bob"),
    ]


def test_models_in_one_build_use_different_engines(fed: Project, postgres: PostgresServer) -> None:  # noqa: F811
    database = fed.database  # type: ignore[attr-defined]
    project_yml = fed.root / "dbt_project.yml"
    project_yml.write_text(
        project_yml.read_text().replace("+target: duck", "+target: duck\n      +compute: spark")
    )
    built = fed.cli("dvt", "build", "--placement", "engine")
    assert built.returncode == 0, built.stdout[-4000:]
    assert built.stdout.count("Initializing spark compute for federation") == 1
    computes = {
        r["unique_id"].split(".")[-1]: r["adapter_response"]["dvt"].get("compute")
        for r in fed.artifact("run_results.json")["results"]
        if r["adapter_response"].get("dvt", {}).get("path") == "federation"
    }
    assert computes == {
        "big_orders": "spark",
        "active_big_spenders": "spark",
        "orders_incremental": "spark",
        "customer_orders": "duckdb",
    }
    assert pg_rows(postgres, database, "analytics.customer_orders") == [
        (1, "Ann", "New Zealand", 2, 55),
        (2, "Bob", "United States", 2, 72),
        (4, "Dee", "France", 0, None),
    ]
    shown = fed.cli(
        "dvt", "show", "--compute", "spark", "--placement", "engine", "--output", "json", "--inline",
        "select c.name, o.amount from {{ source('crm', 'customers') }} c "
        "join {{ source('shop', 'orders') }} o on o.customer_id = c.id where o.amount > 30",
    )  # fmt: skip
    assert shown.returncode == 0, shown.stdout[-4000:]
    assert '"amount": 99' in shown.stdout and '"name": "Chlo' in shown.stdout


def test_spark_without_java_says_what_to_install(fed: Project) -> None:  # noqa: F811
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PATH")}
    env["PATH"] = "/nonexistent"
    code = "import sys; from dvt.cli.main import cli; sys.exit(cli())"
    done = subprocess.run(
        [sys.executable, "-c", code, "run", "--compute", "spark", "--placement", "engine",
         "--select", "customer_orders",
         "--project-dir", str(fed.root), "--profiles-dir", str(fed.root)],
        capture_output=True, text=True, env=env, cwd=fed.root, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]
    assert "[DVT105]" in done.stdout and "Java" in done.stdout and "JAVA_HOME" in done.stdout


def test_spark_connect_gives_the_targets_answer(
    fed: Project,  # noqa: F811
    postgres: PostgresServer,
    spark_connect: SparkConnectServer,
) -> None:
    database = fed.database  # type: ignore[attr-defined]
    duck_file = fed.duck_file  # type: ignore[attr-defined]
    models = ["customer_orders", "big_orders", "active_big_spenders"]
    on_target = fed.cli(
        "dvt", "run", "--placement", "target", "--select", "duck_countries", *models
    )
    assert on_target.returncode == 0, on_target.stdout[-4000:]
    expected = {
        "customer_orders": pg_rows(postgres, database, "analytics.customer_orders"),
        "big_orders": duck_rows(duck_file, "lake.lake.big_orders"),
        "active_big_spenders": duck_rows(duck_file, "lake.lake.active_big_spenders"),
    }
    computes = {
        "test": {"computes": {"connect": {"type": "spark", "remote": spark_connect.remote}}}
    }
    (fed.root / "computes.yml").write_text(yaml.safe_dump(computes))
    debugged = fed.cli("dvt", "debug", "--compute", "connect")
    (line,) = [text for text in debugged.stdout.splitlines() if "  connect (spark) [" in text]
    assert "OK" in line and "Spark Connect client present" in line
    on_connect = fed.cli(
        "dvt", "run", "--compute", "connect", "--placement", "engine", "--select", *models
    )
    assert on_connect.returncode == 0, on_connect.stdout[-4000:]
    assert f"({spark_connect.remote})" in on_connect.stdout  # the session's start line
    computed = {
        r["unique_id"].split(".")[-1]: r["adapter_response"]["dvt"]
        for r in fed.artifact("run_results.json")["results"]
    }
    assert {name: computed[name]["compute"] for name in models} == dict.fromkeys(models, "connect")
    assert {name: computed[name]["placement"] for name in models} == dict.fromkeys(models, "engine")
    assert pg_rows(postgres, database, "analytics.customer_orders") == expected["customer_orders"]
    assert duck_rows(duck_file, "lake.lake.big_orders") == expected["big_orders"]
    assert duck_rows(duck_file, "lake.lake.active_big_spenders") == expected["active_big_spenders"]
