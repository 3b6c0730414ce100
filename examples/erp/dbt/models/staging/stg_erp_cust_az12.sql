-- Staging view: the ERP customer feed since the backfill date.
SELECT
    cid,
    bdate,
    gen,
    _airbyte_extracted_at AS extracted_at
FROM {{ source('bronze', 'erp_cust_az12') }}
WHERE _airbyte_extracted_at >= TIMESTAMP '{{ var("backfill_date") }}'
