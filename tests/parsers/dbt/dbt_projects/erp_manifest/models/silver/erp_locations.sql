-- One current location per customer.
SELECT
    {{ dbt_utils.star(ref('stg_loc_a101'), except=['extracted_at']) }}
FROM {{ ref('stg_loc_a101') }}
QUALIFY ROW_NUMBER() OVER (PARTITION BY cid ORDER BY extracted_at DESC) = 1
