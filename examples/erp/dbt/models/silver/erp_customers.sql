{{ config(materialized='incremental', unique_key='customer_id') }}
-- Silver customers: typed, codes decoded, one row per customer (the latest extract).
SELECT
    cid::VARCHAR(50) AS customer_id,
    TRY_CAST(bdate AS DATE) AS birth_date,
    CASE gen
        WHEN 'M' THEN 'Male'
        WHEN 'F' THEN 'Female'
        ELSE 'Unknown'
    END AS gender,
    extracted_at,
    CURRENT_TIMESTAMP AS dwh_loaded_at
FROM {{ ref('stg_erp_cust_az12') }}
{% if is_incremental() %}
WHERE extracted_at > (SELECT MAX(extracted_at) FROM {{ this }})
{% endif %}
QUALIFY ROW_NUMBER() OVER (PARTITION BY cid ORDER BY extracted_at DESC) = 1
