{{ config(materialized='view') }}
-- Today's RFM per customer: the as-of snapshot of int_snapshot_customer_rfm (the one RFM query).
{{ as_of_snapshot(ref('int_snapshot_customer_rfm'), [
    'customer_id', 'first_purchase_date', 'last_purchase_date', 'recency_days', 'frequency',
    'monetary', 'tenure_days', 'average_order_value', 'snapshot_date as as_of_date']) }}
