-- Gold: customers per country, joining silver customers to their current location.
CREATE TABLE gold.customers_by_country AS
SELECT
    l.country_code,
    l.country_name,
    c.gender,
    COUNT(DISTINCT c.customer_id) AS customers,
    MIN(c.birth_date) AS oldest_birth_date
FROM silver.erp_customers AS c
LEFT JOIN silver.erp_customer_locations AS l
    ON l.customer_id = c.customer_id
GROUP BY l.country_code, l.country_name, c.gender;
