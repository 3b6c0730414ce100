{{ config(alias='customers', tags=['core']) }}
select
    c.id as customer_id,
    c.name,
    cc.name as country_name
from {{ source('app', 'customers') }} as c
left join {{ ref('country_codes') }} as cc on cc.code = c.country
