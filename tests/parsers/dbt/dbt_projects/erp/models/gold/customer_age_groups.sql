-- Customers by age group and gender, with the size of each gender.
SELECT
    FLOOR(DATEDIFF(year, birth_date, CURRENT_DATE) / 10) * 10 AS age_group,
    gender,
    COUNT(*) AS customers,
    COUNT(*) OVER (PARTITION BY gender) AS gender_groups
FROM {{ ref('erp_customers') }}
WHERE birth_date IS NOT NULL
GROUP BY 1, 2
