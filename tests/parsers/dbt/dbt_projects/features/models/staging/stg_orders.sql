select id as order_id, customer_id, amount_cents, status, created_at
from {{ source('app', 'orders') }}
