SELECT
    cid AS customer_id,
    gen AS gender
FROM {{ ref('stg_customers') }}
