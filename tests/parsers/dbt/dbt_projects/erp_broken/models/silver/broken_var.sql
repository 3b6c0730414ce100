SELECT cid
FROM {{ ref('stg_customers') }}
WHERE bdate >= '{{ var("start_date") }}'
