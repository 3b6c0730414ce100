-- Staging view over the customer locations, partitioned by country=US/, country=ID/ in bronze.
CREATE OR REPLACE VIEW staging.stg_loc_a101 AS
SELECT
    REPLACE(cid, '-', '') AS cid,
    TRIM(cntry) AS country_name,
    country AS country_code,
    _airbyte_extracted_at AS extracted_at
FROM bronze.loc_a101;
