-- Silver customers, incremental on the extract timestamp (dist='cid', sort='birth_date').
CREATE TABLE IF NOT EXISTS silver.erp_customers (
    customer_id VARCHAR(50),
    birth_date DATE,
    gender VARCHAR(10),
    extracted_at TIMESTAMP,
    dwh_loaded_at TIMESTAMP
);

INSERT INTO silver.erp_customers (customer_id, birth_date, gender, extracted_at, dwh_loaded_at)
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
FROM staging.stg_erp_cust_az12
WHERE extracted_at > (SELECT COALESCE(MAX(extracted_at), '1900-01-01') FROM silver.erp_customers);

-- Recovery: rows that break the contract are removed before the next load.
DELETE FROM silver.erp_customers
WHERE birth_date < '1900-01-01';
