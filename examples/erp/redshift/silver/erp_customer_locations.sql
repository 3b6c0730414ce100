-- Silver customer locations: one current location per customer, merged from staging.
MERGE INTO silver.erp_customer_locations
USING (
    SELECT cid AS customer_id, country_code, country_name, extracted_at
    FROM staging.stg_loc_a101
    QUALIFY ROW_NUMBER() OVER (PARTITION BY cid ORDER BY extracted_at DESC) = 1
) AS src
ON silver.erp_customer_locations.customer_id = src.customer_id
WHEN MATCHED THEN UPDATE SET
    country_code = src.country_code,
    country_name = src.country_name,
    updated_at = src.extracted_at
WHEN NOT MATCHED THEN INSERT (customer_id, country_code, country_name, updated_at)
    VALUES (src.customer_id, src.country_code, src.country_name, src.extracted_at);
