-- Gold: customers by age group and gender, with the share of each gender.
CREATE TABLE gold.customer_age_groups AS
WITH customer_age AS (
    SELECT
        customer_id,
        gender,
        DATEDIFF(year, birth_date, CURRENT_DATE) AS age
    FROM silver.erp_customers
    WHERE birth_date IS NOT NULL
)
SELECT
    FLOOR(age / 10) * 10 AS age_group,
    gender,
    COUNT(*) AS customers,
    COUNT(*) OVER (PARTITION BY gender) AS gender_groups
FROM customer_age
GROUP BY 1, 2;
