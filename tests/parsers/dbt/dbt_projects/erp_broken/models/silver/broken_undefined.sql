-- Calls a macro nobody defined.
SELECT
    cid,
    {{ undefined_helper('gen') }} AS gender
FROM {{ ref('stg_customers') }}
