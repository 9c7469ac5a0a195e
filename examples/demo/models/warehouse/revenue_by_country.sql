-- Reads three targets (warehouse seed, lake model, SQLite source), so it is federated: its
-- remote inputs are imported into `warehouse` (only the columns and rows it needs) and this SQL
-- runs there, through dbt's own table materialization (`dvt plan` says where and why).
select c.country, count(distinct o.order_id) as orders, sum(p.paid) as paid
from {{ ref('orders') }} o
join {{ ref('customers_clean') }} c on c.customer_id = o.customer_id
join {{ source('shop', 'payments') }} p on p.order_id = o.order_id
where p.method <> 'voucher'
group by c.country
