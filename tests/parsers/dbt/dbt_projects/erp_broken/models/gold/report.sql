SELECT gender, COUNT(*) AS customers
FROM {{ ref('customers') }}
GROUP BY gender
