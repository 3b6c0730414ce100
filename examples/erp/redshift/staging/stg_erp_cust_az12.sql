-- Staging view: today's extract of the ERP customer feed (dbt model, materialized as a view).
CREATE OR REPLACE VIEW staging.stg_erp_cust_az12 AS
SELECT
    cid,
    bdate,
    gen,
    _airbyte_extracted_at AS extracted_at
FROM spectrum.erp_cust_az12
WHERE DATE(_airbyte_extracted_at) = CURRENT_DATE;
