{% snapshot orders_snapshot %}
    {{
        config(
            target_schema='snapshots',
            unique_key='order_id',
            strategy='timestamp',
            updated_at='created_at'
        )
    }}
    select order_id, status, created_at from {{ ref('stg_orders') }}
{% endsnapshot %}
