-- Runs on the default target `warehouse`: plain dbt pushdown.
select customer_id, count(*) as orders, sum(amount) as revenue, max(ordered_at) as last_order_at
from {{ ref('orders') }}
group by customer_id
