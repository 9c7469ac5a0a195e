"""Hand-written differential cases: each class gave a wrong or failing answer in an earlier
version of DVT. `family` names the class; the harness compares each with PostgreSQL's answer.

Tables live on: customers `pg` (the target), orders `pg2` (another PostgreSQL database, UTC),
products and items `duck` (DuckDB), regions `lite` (SQLite), reviews `maria` (MariaDB,
utf8mb4_unicode_ci). The target database's TimeZone is America/New_York.
"""

from __future__ import annotations

from tests.conformance.harness import Case

_CASES: list[tuple[str, str, str]] = [
    # LIMIT inside a correlated subquery and inside LATERAL: never pushed to the input's read.
    (
        "h_limit_correlated_by_id",
        "limit in a correlated subquery",
        """
        select c.id,
               (select o.amount from {orders} o where o.id = c.id order by o.amount limit 1) as amount
        from {customers} c
        """,
    ),
    (
        "h_limit_correlated_first_order",
        "limit in a correlated subquery",
        """
        select c.id, c.name,
               (select o.amount from {orders} o where o.customer_id = c.id
                order by o.amount desc nulls last, o.id limit 1) as biggest
        from {customers} c
        """,
    ),
    (
        "h_limit_lateral",
        "limit in a lateral join",
        """
        select c.id, l.id as order_id, l.amount
        from {customers} c
        cross join lateral (
          select o.id, o.amount from {orders} o where o.customer_id = c.id
          order by o.amount desc nulls last, o.id limit 2
        ) l
        """,
    ),
    (
        "h_limit_left_lateral",
        "limit in a lateral join",
        """
        select p.id, l.line, l.qty
        from {products} p
        left join lateral (
          select i.line, i.qty from {items} i where i.product_id = p.id order by i.line limit 1
        ) l on true
        where p.id <= 44
        """,
    ),
    # Set-valued subqueries over one input are set operations, never one folded value.
    (
        "h_in_subquery",
        "in / not in / any (subquery)",
        "select c.id, c.name from {customers} c where c.id in (select o.customer_id from {orders} o where o.amount > 1000)",
    ),
    (
        "h_not_in_subquery_with_nulls",
        "in / not in / any (subquery)",
        "select c.id from {customers} c where c.id not in (select o.customer_id from {orders} o)",
    ),
    (
        "h_not_in_subquery",
        "in / not in / any (subquery)",
        """
        select c.id from {customers} c
        where c.id not in (select o.customer_id from {orders} o where o.customer_id is not null and o.qty > 3)
        """,
    ),
    (
        "h_any_subquery",
        "in / not in / any (subquery)",
        "select c.id, c.credit from {customers} c where c.id = any (select r.customer_id from {reviews} r where r.rating >= 4)",
    ),
    (
        "h_in_subquery_same_database",
        "in / not in / any (subquery)",
        "select o.id from {orders} o where o.customer_id in (select c.id from {customers} c where c.active)",
    ),
    (
        "h_in_uncorrelated_duck",
        "in / not in / any (subquery)",
        "select o.id, o.amount from {orders} o where o.id in (select i.order_id from {items} i where i.qty > 7)",
    ),
    # A scalar subquery that returns several rows is an error on PostgreSQL: DVT must fail too.
    (
        "h_scalar_several_rows_select",
        "scalar subquery with several rows",
        "select c.id, (select o.amount from {orders} o where o.qty = 3) as amount from {customers} c",
    ),
    (
        "h_scalar_several_rows_where",
        "scalar subquery with several rows",
        "select c.id from {customers} c where c.credit > (select o.amount from {orders} o where o.qty > 5)",
    ),
    (
        "h_scalar_one_row_where",
        "scalar subquery with several rows",
        "select c.id from {customers} c where c.credit > (select avg(o.amount) from {orders} o where o.qty > 5)",
    ),
    # Time zones: the target's TimeZone (America/New_York) decides; pg2 runs in UTC.
    (
        "h_tz_tstz_to_date",
        "time zone",
        "select o.id, o.ordered_at::date as day, c.name from {orders} o join {customers} c on c.id = o.customer_id",
    ),
    (
        "h_tz_extract_hour",
        "time zone",
        "select o.id, extract(hour from o.ordered_at) as hour from {orders} o where o.ordered_at is not null",
    ),
    (
        "h_tz_date_trunc_day",
        "time zone",
        "select date_trunc('day', o.ordered_at) as day, count(*) as n from {orders} o group by 1",
    ),
    (
        "h_tz_range_filter",
        "time zone",
        """
        select o.id, o.ordered_at from {orders} o
        where o.ordered_at >= '2024-01-01' and o.ordered_at < '2024-03-11'
        """,
    ),
    (
        "h_tz_date_filter_pushed",
        "time zone",
        "select o.id from {orders} o join {customers} c on c.id = o.customer_id where o.ordered_at::date = date '2023-12-31' or o.ordered_at::date = date '2024-03-10'",
    ),
    (
        "h_tz_duckdb_tstz_to_date",
        "time zone",
        "select p.id, p.updated_at::date as day, extract(hour from p.updated_at) as hour from {products} p",
    ),
    (
        "h_tz_target_tstz_with_remote",
        "time zone",
        "select c.id, c.last_seen::date as seen, o.id as order_id from {customers} c join {orders} o on o.customer_id = c.id where c.last_seen is not null",
    ),
    # Literals with a UTC offset (dbt's microbatch window): pushed into PostgreSQL and DuckDB,
    # kept on the target for MariaDB; a bare date read as a timestamptz is New York's midnight.
    (
        "h_instant_window_pg2",
        "instant literals",
        """
        select o.id, o.ordered_at, o.local_ts from {orders} o
        where o.ordered_at >= '2024-01-01 00:00:00+00:00' and o.ordered_at < '2024-03-10 02:00:00-05:00'
          and o.local_ts >= '2023-06-01 00:00:00+00:00' and o.local_ts < '2024-11-03 01:30:00-04:00'
        """,
    ),
    (
        "h_instant_window_dates",
        "instant literals",
        "select o.id, o.shipped from {orders} o where o.shipped >= '2024-01-01 23:00:00-05:00' and o.shipped < '2024-03-10 00:00:00+00:00'",
    ),
    (
        "h_instant_window_duck",
        "instant literals",
        """
        select p.id, p.updated_at, p.launched from {products} p
        where p.updated_at between '2024-01-01 00:00:00+05:30' and '2025-01-01 00:00:00.5+00'
           or p.launched >= '2025-06-30 23:59:59.999999+14:00'
        """,
    ),
    (
        "h_instant_window_maria",
        "instant literals",
        "select r.id, r.created from {reviews} r where r.created >= '2024-01-01 00:00:00+00:00' and r.created < '2025-01-01 00:00:00+00:00'",
    ),
    (
        "h_tz_bare_date_timestamptz",
        "time zone",
        "select o.id, o.ordered_at from {orders} o where o.ordered_at >= timestamptz '2023-12-31' and o.ordered_at < timestamptz '2024-01-01'",
    ),
    (
        "h_tz_timestamp_minus_date",
        "date arithmetic",
        "select o.id, o.local_ts - o.shipped as gap from {orders} o",
    ),
    (
        "h_tz_tstz_to_text",
        "time zone",
        "select o.id, o.ordered_at::text as shown from {orders} o",
    ),
    (
        "h_date_minus_date_weeks",
        "date arithmetic",
        "select o.id, (o.shipped - c.signup) / 7 as weeks, o.shipped - c.signup as days from {orders} o join {customers} c on c.id = o.customer_id",
    ),
    (
        "h_date_plus_int",
        "date arithmetic",
        "select p.id, p.added + 30 as due, p.added + interval '1 month' as next_month from {products} p",
    ),
    # LIKE: PostgreSQL's backslash escape; SQLite's LIKE ignores case; MySQL collations.
    (
        "h_like_backslash_underscore",
        "like escapes",
        "select c.id, c.name from {customers} c where c.name like 'a\\_b' or c.name like '%\\%%'",
    ),
    (
        "h_like_backslash_remote",
        "like escapes",
        "select r.id, r.title from {reviews} r where r.title like 'a\\_b' or r.title like '%\\\\%'",
    ),
    (
        "h_like_duck",
        "like escapes",
        "select p.id, p.name from {products} p where p.name like 'a\\%b' or p.name like 'a\\_b'",
    ),
    (
        "h_like_sqlite_case",
        "text semantics of the source",
        "select r.code, c.id from {regions} r join {customers} c on c.region = r.code where r.name like 'united%'",
    ),
    (
        "h_ilike_non_ascii",
        "text semantics of the source",
        "select p.id, p.name from {products} p where p.name ilike 'é%' or p.category ilike 'élec%'",
    ),
    (
        "h_lower_non_ascii",
        "text semantics of the source",
        "select p.id, lower(p.name) as lowered, upper(p.category) as uppered from {products} p",
    ),
    # to_char, round of float8 halves, float8 to text.
    (
        "h_to_char",
        "to_char",
        """
        select o.id, to_char(o.ordered_at, 'YYYY-MM-DD HH24:MI:SS TZ') as at,
               to_char(o.amount, 'FM999G999G990D00') as amount, to_char(o.shipped, 'Dy DD Mon YYYY') as day
        from {orders} o
        """,
    ),
    (
        "h_round_float8_half",
        "round of float8",
        "select p.id, round(p.weight) as r, round(p.price) as n from {products} p",
    ),
    (
        "h_round_float8_literal",
        "round of float8",
        "select r.code, round(r.area) as area, round(2.5::float8) as two, round(-0.5::float8) as zero from {regions} r",
    ),
    (
        "h_float8_to_text",
        "float8 to text",
        "select p.id, p.weight::text as shown, (p.weight * 3)::text as tripled from {products} p",
    ),
    (
        "h_float8_to_text_remote",
        "float8 to text",
        "select o.id, o.discount::text as shown from {orders} o",
    ),
    # Ordered-set aggregates and aggregate result types.
    (
        "h_percentile_cont_numeric",
        "percentile_cont",
        """
        select o.status, percentile_cont(0.5) within group (order by o.amount) as median,
               percentile_disc(0.5) within group (order by o.amount) as middle
        from {orders} o group by o.status
        """,
    ),
    (
        "h_sum_avg_int",
        "aggregate result types",
        """
        select i.product_id, sum(i.qty) as total, avg(i.qty) as mean, sum(i.line) as lines,
               avg(i.line) as mean_line, count(*) as n
        from {items} i join {products} p on p.id = i.product_id group by i.product_id
        """,
    ),
    (
        "h_numeric_division",
        "aggregate result types",
        """
        select o.id, o.amount / nullif(o.qty, 0) as unit, o.qty / 2 as half, o.qty / 2.0 as exact,
               o.big / 3 as third, o.amount * o.qty as total
        from {orders} o
        """,
    ),
    (
        "h_sum_over_count",
        "aggregate result types",
        "select r.rating, sum(r.helpful) / count(*) as per_review, sum(r.rating) / count(*) as int_ratio, avg(r.score) as score from {reviews} r group by r.rating",
    ),
    (
        "h_integer_division_pushed",
        "integer division",
        "select i.line, i.qty from {items} i join {orders} o on o.id = i.order_id where i.qty / 2 = 1",
    ),
    # MariaDB's collation: 'abc' = 'ABC' and 'a' = 'a ' there, not in PostgreSQL.
    (
        "h_mysql_text_equality",
        "text semantics of the source",
        "select r.id, r.title from {reviews} r join {customers} c on c.id = r.customer_id where r.title = 'great'",
    ),
    (
        "h_mysql_text_equality_alone",
        "text semantics of the source",
        "select r.id, r.title from {reviews} r where r.title = 'Great'",
    ),
    (
        "h_mysql_text_order",
        "text semantics of the source",
        "select r.id, r.body from {reviews} r where r.body < 'b' and r.body >= 'A'",
    ),
    (
        "h_mysql_like",
        "text semantics of the source",
        "select r.id, r.title from {reviews} r where r.title like 'g%'",
    ),
    (
        "h_mysql_text_in_join",
        "text semantics of the source",
        "select r.id, c.id as customer from {reviews} r join {customers} c on c.name = r.body",
    ),
    (
        "h_mysql_group_by_text",
        "text semantics of the source",
        "select r.title, count(*) as n from {reviews} r group by r.title",
    ),
    (
        "h_mysql_distinct_text",
        "text semantics of the source",
        "select distinct r.title from {reviews} r",
    ),
    (
        "h_mysql_decimal",
        "types of the source",
        "select r.id, r.helpful, r.helpful * 2 as doubled from {reviews} r",
    ),
    (
        "h_mysql_varchar",
        "types of the source",
        "select r.id, r.title, r.body, r.created, r.reviewed from {reviews} r",
    ),
    (
        "h_sqlite_types",
        "types of the source",
        "select r.code, r.name, r.population, r.area from {regions} r",
    ),
    (
        "h_duck_types",
        "types of the source",
        "select * from {products}",
    ),
    (
        "h_pg2_types",
        "types of the source",
        "select * from {orders}",
    ),
    # A partitioned window aggregate over one remote input (no ORDER BY in the window).
    (
        "h_window_partition_duck",
        "window aggregate over one input",
        "select i.line, avg(i.unit_price) over (partition by i.product_id) as mean from {items} i",
    ),
    (
        "h_window_partition_pg2",
        "window aggregate over one input",
        "select o.id, sum(o.amount) over (partition by o.status) as total, count(*) over (partition by o.status) as n from {orders} o",
    ),
    (
        "h_window_partition_mysql",
        "window aggregate over one input",
        "select r.id, max(r.rating) over (partition by r.product_id) as best from {reviews} r",
    ),
    # The null-supplying side keeps its filter.
    (
        "h_anti_join_is_null",
        "outer join filters",
        "select c.id from {customers} c left join {orders} o on o.customer_id = c.id where o.id is null",
    ),
    (
        "h_parenthesised_anti_join_first",
        "outer join filters",
        """
        select c.id, i.line from ({customers} c left join {orders} o on o.customer_id = c.id)
        join {items} i on i.order_id = c.id where o.id is null
        """,
    ),
    (  # the group is NULL-extended as a whole: o's filter is not pushed into its read
        "h_parenthesised_group_null_side",
        "outer join filters",
        """
        select c.id, o.id as order_id from {customers} c
        left join ({orders} o join {items} i on i.order_id = o.id) on o.customer_id = c.id
        where o.amount is null
        """,
    ),
    (  # a derived table's own outer join NULL-extends nothing of the query reading it
        "h_derived_table_outer_join",
        "outer join filters",
        """
        select r.id, r.line, p.name from
          (select o.id, i.line, i.product_id from {orders} o
           left join {items} i on i.order_id = o.id) r,
          {products} p
        where p.id = r.product_id and p.id < 30 and p.id > -5
        """,
    ),
    (  # DuckDB compares a subquery's dates with a timestamptz at UTC midnight
        "h_timestamptz_in_dates",
        "time zone",
        "select c.id, c.last_seen from {customers} c where c.last_seen in (select s.added from {products} s)",
    ),
    (  # PostgreSQL's date + int4; DuckDB types length() BIGINT and has no DATE + BIGINT
        "h_date_plus_an_int4_function",
        "date arithmetic",
        """
        select (coalesce(p.added, date '2024-01-01') + length('US')) as c1, p.added - i.qty as c2
        from {items} i join {products} p on i.product_id = p.id join {customers} c on c.id = p.id
        """,
    ),
    (
        "h_full_join_filter",
        "outer join filters",
        "select c.id, o.id as order_id from {customers} c full join {orders} o on o.customer_id = c.id where o.qty > 10 or c.id > 58",
    ),
    # A correlated EXISTS, then more federated models in the same invocation: an engine that
    # crashes on the first must not break the others.
    (
        "h_exists_correlated",
        "correlated exists",
        """
        select c.id, c.name from {customers} c
        where exists (select 1 from {orders} o where o.customer_id = c.id and o.amount > c.credit)
        """,
    ),
    (
        "h_exists_then_join",
        "after a correlated exists",
        "select c.id, o.id as order_id from {customers} c join {orders} o on o.customer_id = c.id where o.qty > 8",
    ),
    (
        "h_exists_then_products",
        "after a correlated exists",
        "select i.line, p.name from {items} i join {products} p on p.id = i.product_id where i.qty = 9",
    ),
    (
        "h_exists_then_regions",
        "after a correlated exists",
        "select c.id, r.name from {customers} c join {regions} r on r.code = c.region",
    ),
    # dbt's import CTEs and microbatch's filtered `select *`: each input is read with only the
    # columns used above the star, and the target still finds every column the SQL writes.
    (
        "h_import_ctes",
        "stars of ctes",
        """
        with customers as (select * from {customers}), orders as (select * from {orders})
        select c.id, c.name, sum(o.amount) as total from customers c
        join orders o on o.customer_id = c.id group by c.id, c.name
        """,
    ),
    (
        "h_star_subquery_window",
        "stars of ctes",
        """
        select s.id, s.qty from (select * from {orders} where qty > 3) s
        join {customers} c on c.id = s.customer_id
        """,
    ),
    (
        "h_star_with_written_column",
        "stars of ctes",
        """
        with o as (select *, qty * 2 as double_qty from {orders}), unused as (select * from {customers})
        select o.id from o join {customers} c on c.id = o.customer_id
        """,
    ),
    (
        "h_star_ordered_by_position",
        "stars of ctes",
        """
        select s.id from (select * from {orders} order by 4 desc nulls last, 1 limit 7) s
        join {customers} c on c.id = s.customer_id
        """,
    ),
    (
        "h_star_distinct",
        "stars of ctes",
        "select count(*) as n from (select distinct * from {orders}) s cross join (select count(*) from {customers}) c",
    ),
    (
        "h_not_exists_correlated",
        "correlated exists",
        "select p.id from {products} p where not exists (select 1 from {reviews} r where r.product_id = p.id and r.rating = 5)",
    ),
]

CASES: list[Case] = [Case(name, sql, family) for name, family, sql in _CASES]
