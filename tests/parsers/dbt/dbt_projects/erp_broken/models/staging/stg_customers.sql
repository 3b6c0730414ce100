SELECT cid, gen, bdate
FROM {{ source('bronze', 'erp_cust_az12') }}
