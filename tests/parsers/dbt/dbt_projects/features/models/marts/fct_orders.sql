with customers as (
    select * from {{ source('app', 'customers') }}
)
select
    o.order_id,
    {{ cents_to_dollars('o.amount_cents') }} as amount,
    {{ my_pkg.shout('c.name') }} as customer_name,
    o._dbt_source_relation as loaded_from
from {{ ref('int_paid_orders') }} as o
join customers as c on c.id = o.customer_id
