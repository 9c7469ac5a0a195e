"""dbt's newer features on a two-DuckDB project (issue 18): build counts that match the nodes,
unit tests on federated models, `dvt plan` before anything is built."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.functional.databases import duck_rows
from tests.functional.projects import Project, dbt_project_yml, duck_output

pytestmark = [pytest.mark.duckdb]

FILES = {
    "dbt_project.yml": dbt_project_yml(
        "feat", "models:\n  feat:\n    lake:\n      +target: lake\n"
    ),
    "seeds/orders.csv": "order_id,customer_id,amount\n1,1,10.5\n2,1,4.5\n3,2,7.0\n",
    "seeds/customers.csv": "customer_id,country\n1,nz\n2,fr\n",
    "seeds/_seeds.yml": """\
        seeds:
          - name: customers
            config: {target: lake}
        """,
    "models/customer_orders.sql": """\
        select customer_id, count(*) as orders, sum(amount) as spent
        from {{ ref('orders') }} group by customer_id
        """,
    "models/lake/customers_clean.sql": """\
        select customer_id, upper(country) as country from {{ ref('customers') }}
        """,
    "models/revenue.sql": """\
        select c.country, sum(o.amount) as revenue
        from {{ ref('orders') }} o join {{ ref('customers_clean') }} c using (customer_id)
        group by c.country
        """,
    "models/lake/countries.sql": """\
        {{ config(materialized='ephemeral') }}
        select distinct country from {{ ref('customers') }}
        """,
    "models/schema.yml": """\
        models:
          - name: revenue
            columns:
              - name: country
                data_tests: [not_null]
        unit_tests:
          - name: counts_orders
            model: customer_orders
            given:
              - input: ref('orders')
                rows: [{order_id: 1, customer_id: 7, amount: 2}, {order_id: 2, customer_id: 7, amount: 3}]
            expect:
              rows: [{customer_id: 7, orders: 2, spent: 5}]
        """,
}


@pytest.fixture
def feat(tmp_path: Path) -> Project:
    project = Project(tmp_path / "project").write(FILES)
    project.profiles(
        {
            "warehouse": duck_output(tmp_path / "warehouse.duckdb", "analytics"),
            "lake": duck_output(tmp_path / "lake.duckdb", "lake"),
        },
        "warehouse",
    )
    return project


def test_build_counts_unit_tests_as_dbts_total_does(feat: Project) -> None:
    done = feat.cli("dvt", "--no-use-colors", "build", "--select", "orders", "customer_orders")
    assert done.returncode == 0, done.stdout
    assert (
        "Build plan: 1 seeds, 1 models (1 pushdown, 0 federation), 0 tests, 1 unit tests, "
        "0 snapshots" in done.stdout
    )
    assert "Completed unit tests: 1/1 OK" in done.stdout
    assert "unit tests: 1/1" in done.stdout  # the build's last line
    assert "TOTAL=3" in done.stdout
    plan = re.search(r"Build plan: (.*)", done.stdout)
    assert plan is not None
    planned = sum(
        int(n) for n in re.findall(r"(\d+) (?:seeds|models|tests|unit tests|snapshots)", plan[1])
    )
    assert planned == 3 == len(feat.statuses())


DECLARED = """\
  - name: customers_clean
    columns:
      - {name: customer_id, data_type: integer}
      - {name: country, data_type: varchar}
"""


def test_plan_before_anything_is_built(feat: Project) -> None:
    schema = feat.root / "models" / "schema.yml"
    schema.write_text(schema.read_text().replace("unit_tests:", DECLARED + "unit_tests:"))
    planned = feat.dvt("plan", "--output", "json", "--select", "revenue", "countries")
    assert planned.success, planned.exception
    rows = {r["unique_id"]: r for r in map(json.loads, planned.result)}
    revenue = rows["model.feat.revenue"]
    assert "plan_error" not in revenue, revenue
    assert revenue["placement"]["placement"] in ("target", "engine")
    reads = {e["input"]: e["sql"] for e in revenue["extractions"]}
    # customers_clean's columns come from its `columns:`, orders' from the seed's header.
    assert "customer_id" in reads["model.feat.customers_clean"]
    assert "country" in reads["model.feat.customers_clean"]
    assert rows["model.feat.countries"]["path"] == "ephemeral"
    text = feat.cli("dvt", "plan")
    assert text.returncode == 0, text.stdout
    assert (
        "Build plan: 2 seeds, 3 models (2 pushdown, 1 federation) + 1 ephemeral, 1 tests, "
        "0 snapshots" in text.stdout
    )
    assert re.search(r"countries +model +lake +ephemeral +lake +-", text.stdout)
    assert "revenue: federation -> warehouse, computed " in text.stdout
    assert "cannot plan" not in text.stdout


def test_plan_names_the_inputs_to_build_first(feat: Project) -> None:
    revenue_sql = (feat.root / "models" / "revenue.sql").read_text()
    feat.write({"models/revenue_again.sql": revenue_sql})  # a second reader of the same inputs
    planned = feat.dvt("plan", "--output", "json", "--select", "revenue", "revenue_again")
    assert planned.success, planned.exception
    rows = {r["unique_id"]: r for r in map(json.loads, planned.result)}
    revenue = rows["model.feat.revenue"]
    assert revenue["unbuilt_inputs"] == ["model.feat.customers_clean"]  # orders: a seed
    assert rows["model.feat.revenue_again"]["unbuilt_inputs"] == ["model.feat.customers_clean"]
    assert "customers_clean (model)" in revenue["plan_error"]
    assert "dvt build --select +revenue" in revenue["plan_error"]
    assert revenue["path"] == "federation" and revenue["input_targets"] == ["lake", "warehouse"]
    text = feat.cli("dvt", "plan", "--select", "revenue")
    assert "revenue: federation -> warehouse" in text.stdout
    assert "Catalog Error" not in text.stdout


FEDERATED_UNIT_TESTS = """\
  - name: revenue_per_country
    model: revenue
    given:
      - input: ref('orders')
        rows: [{order_id: 1, customer_id: 1, amount: 2.5}, {order_id: 2, customer_id: 2, amount: 4}]
      - input: ref('customers_clean')
        rows: [{customer_id: 1, country: 'NZ'}, {customer_id: 2, country: 'NZ'}]
    expect:
      rows: [{country: 'NZ', revenue: 6.5}]
  - name: revenue_expected_wrong
    model: revenue
    given:
      - input: ref('orders')
        rows: [{order_id: 1, customer_id: 1, amount: 2.5}]
      - input: ref('customers_clean')
        rows: [{customer_id: 1, country: 'NZ'}]
    expect:
      rows: [{country: 'NZ', revenue: 99}]
"""


def test_unit_tests_on_a_federated_model_run_on_its_target(feat: Project) -> None:
    schema = feat.root / "models" / "schema.yml"
    schema.write_text(schema.read_text() + FEDERATED_UNIT_TESTS)
    built = feat.cli("dvt", "--no-use-colors", "build", "--exclude", "test_type:unit")
    assert built.returncode == 0, built.stdout
    done = feat.cli("dvt", "--no-use-colors", "test", "--select", "test_type:unit")
    assert done.returncode == 1, done.stdout  # the wrong expectation fails, as it should
    statuses = feat.statuses()
    assert statuses["unit_test.feat.revenue.revenue_per_country"] == "pass", done.stdout
    assert statuses["unit_test.feat.revenue.revenue_expected_wrong"] == "fail"
    assert statuses["unit_test.feat.customer_orders.counts_orders"] == "pass"
    assert "information_schema" not in done.stdout and "Catalog Error" not in done.stdout


PYTHON_MODELS = {
    "models/lake/py_countries.py": """\
        def model(dbt, session):
            dbt.config(materialized="table")
            return dbt.ref("customers").order("customer_id")
        """,
    "models/py_mixed.py": """\
        def model(dbt, session):
            return dbt.ref("customers_clean")
        """,
}


def test_python_models_on_a_non_default_duckdb_target(feat: Project) -> None:
    feat.write(PYTHON_MODELS)
    done = feat.cli("dvt", "--no-use-colors", "build", "--select", "+py_countries", "+py_mixed")
    statuses = feat.statuses()
    assert statuses["model.feat.py_countries"] == "success", done.stdout
    lake = feat.root.parent / "lake.duckdb"
    assert duck_rows(lake, "lake.lake.py_countries") == [(1, "nz"), (2, "fr")]
    # A Python model reading another target is refused, saying what is possible.
    assert statuses["model.feat.py_mixed"] == "error"
    assert "[DVT104] Python model model.feat.py_mixed" in done.stdout
    assert "reads 'lake'" in done.stdout
    assert "SQLGlot" not in done.stdout


MICROBATCH = {
    "seeds/events.csv": (
        "id,event_time,amount\n"
        "1,2020-01-01 10:00:00,1\n2,2020-01-02 10:00:00,2\n3,2020-01-03 10:00:00,3\n"
    ),
    "seeds/_events.yml": """\
        seeds:
          - name: events
            config:
              target: lake
              event_time: event_time
              column_types: {event_time: timestamp}
        """,
    "models/daily.sql": """\
        {{ config(materialized='incremental', incremental_strategy='microbatch',
                  event_time='event_time', batch_size='day', begin='2020-01-01') }}
        {% set fail = env_var('DVT_FAIL_BATCH', '') == model.batch.id %}
        select id, event_time, amount from {{ ref('events') }}
        where {{ "cast('boom' as integer)" if fail else "1" }} = 1
        """,
}
WINDOW = ("--event-time-start", "2020-01-01", "--event-time-end", "2020-01-04")


def test_microbatch_on_a_federated_model_runs_and_retries_batch_by_batch(
    feat: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    feat.write(MICROBATCH)
    seeded = feat.dvt("seed", "--select", "events")
    assert seeded.success, seeded.exception
    monkeypatch.setenv("DVT_FAIL_BATCH", "20200102")
    ran = feat.dvt("--debug", "run", "--select", "daily", *WINDOW)
    assert not ran.success
    (result,) = ran.result.results
    assert str(result.status) == "partial success"
    assert [str(b[0].date()) for b in result.batch_results.successful] == [
        "2020-01-01",
        "2020-01-03",
    ]
    assert [str(b[0].date()) for b in result.batch_results.failed] == ["2020-01-02"]
    warehouse = feat.root.parent / "warehouse.duckdb"
    assert sorted(r[0] for r in duck_rows(warehouse, "warehouse.analytics.daily")) == [1, 3]
    # Each batch's SQL holds its own window (dbt's, with its UTC offset), which DuckDB reads as
    # the target does: it is pushed into the batch's read of the input.
    log = (feat.root / "logs" / "dbt.log").read_text()
    assert "event_time >= '2020-01-03 00:00:00+00:00' and event_time < '2020-01-04" in log
    assert "predicate kept in the query" not in log
    monkeypatch.delenv("DVT_FAIL_BATCH")
    retried = feat.dvt("retry")
    assert retried.success, retried.exception
    (again,) = retried.result.results
    assert not again.batch_results.failed and len(again.batch_results.successful) == 3
    retry_log = (feat.root / "logs" / "dbt.log").read_text()[len(log) :]
    assert "Batch 1 of 1 START batch 2020-01-02" in retry_log  # only the failed batch ran
    assert sorted(r[0] for r in duck_rows(warehouse, "warehouse.analytics.daily")) == [1, 2, 3]


def test_microbatch_batches_on_another_target_render_that_target(feat: Project) -> None:
    """dbt builds each batch's runner with the default target's config: DVT gives it the
    model's own target, as the model's other runners have."""
    feat.write(
        {
            **MICROBATCH,
            "models/lake/daily_here.sql": """\
                {{ config(materialized='incremental', incremental_strategy='microbatch',
                          event_time='event_time', batch_size='day', begin='2020-01-01') }}
                select id, event_time, '{{ target.name }}' as rendered_for from {{ ref('events') }}
                """,
        }
    )
    assert feat.dvt("seed", "--select", "events").success
    ran = feat.dvt("run", "--select", "daily_here", *WINDOW)
    assert ran.success, ran.exception
    lake = feat.root.parent / "lake.duckdb"
    assert {r[2] for r in duck_rows(lake, "lake.lake.daily_here")} == {"lake"}
