SELECT cid
FROM {{ ref('stg_customers') }}
JOIN {{ ref('no_such_model') }} USING (cid)
