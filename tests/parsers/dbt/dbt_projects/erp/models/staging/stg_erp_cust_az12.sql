-- Staging view: the ERP customer feed since the backfill date.
SELECT
    cid,
    bdate,
    gen,
    _airbyte_extracted_at AS extracted_at
FROM {{ source('spectrum', 'erp_cust_az12') }}
WHERE DATE(_airbyte_extracted_at) >= '{{ var("backfill_date") }}'
