-- Staging view over the customer locations.
SELECT
    REPLACE(cid, '-', '') AS cid,
    TRIM(cntry) AS country_name,
    country AS country_code,
    _airbyte_extracted_at AS extracted_at
FROM {{ source('bronze', 'loc_a101') }}
