-- Silver locations: the current country of each customer.
SELECT
    cid AS customer_id,
    country_code,
    country_name,
    extracted_at AS updated_at
FROM {{ ref('stg_loc_a101') }}
QUALIFY ROW_NUMBER() OVER (PARTITION BY cid ORDER BY extracted_at DESC) = 1
