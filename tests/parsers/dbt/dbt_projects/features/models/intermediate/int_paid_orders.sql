select *
from {{ ref('int_orders_union') }}
where status = '{{ var("paid_status") }}'
