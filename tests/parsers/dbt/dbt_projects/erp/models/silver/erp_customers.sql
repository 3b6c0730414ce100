{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        dist='customer_id',
        sort='birth_date'
    )
}}

SELECT
    {{ dbt_utils.generate_surrogate_key(['cid']) }} AS customer_key,
    cid::VARCHAR(50) AS customer_id,
    TRY_CAST(bdate AS DATE) AS birth_date,
    {{ clean_gender('gen') }} AS gender,
    extracted_at,
    {{ dbt.current_timestamp() }} AS dwh_loaded_at
FROM {{ ref('stg_erp_cust_az12') }}
{% if is_incremental() %}
WHERE extracted_at > (SELECT MAX(extracted_at) FROM {{ this }})
{% endif %}
