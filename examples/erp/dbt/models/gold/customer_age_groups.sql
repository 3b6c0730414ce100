-- Gold: customers by age group and gender.
SELECT
    (FLOOR(DATE_DIFF('year', birth_date, DATE '{{ var("as_of", "2026-01-01") }}') / 10) * 10)::INTEGER AS age_group,
    gender,
    COUNT(*) AS customers
FROM {{ ref('erp_customers') }}
WHERE birth_date IS NOT NULL
GROUP BY 1, 2
