SELECT
    cid,
    (gen AS gender
FROM {{ ref('stg_customers') }}
