def model(dbt, session):
    dbt.config(materialized="table")
    orders = dbt.ref("fct_orders")
    customers = dbt.ref("dim_customers")
    return orders.join(customers, "customer_id")
