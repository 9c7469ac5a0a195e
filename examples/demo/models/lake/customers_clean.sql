-- Runs on the `lake` target (DuckDB), where its seed lives: pushdown:lake.
select customer_id, trim(name) as name, upper(country) as country, signed_up_on
from {{ ref('customers') }}
