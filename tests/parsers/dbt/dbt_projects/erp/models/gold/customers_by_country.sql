-- Customers per country.
SELECT
    l.country_code,
    l.country_name,
    c.gender,
    COUNT(DISTINCT c.customer_id) AS customers
FROM {{ ref('erp_customers') }} AS c
LEFT JOIN {{ ref('erp_locations') }} AS l
    ON l.cid = c.customer_id
GROUP BY l.country_code, l.country_name, c.gender
