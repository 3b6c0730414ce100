{{ dbt_utils.union_relations(relations=[ref('stg_orders'), ref('stg_orders_archive')]) }}
