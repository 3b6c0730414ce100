SELECT cid
FROM {{ ref('stg_customers') }}
{% if var('only_recent', false) %}
WHERE bdate > '2020-01-01'
