-- Recency, frequency and monetary per customer per snapshot, from the valid sales strictly
-- before the snapshot date only (the definitions of marts.customer_rfm, one query for all dates).
with sales as (
    select
        snapshots.snapshot_date,
        clean_transactions.customer_id,
        clean_transactions.invoice_id,
        clean_transactions.invoice_date,
        clean_transactions.amount
    from {{ ref('clean_transactions') }} as clean_transactions
    join {{ ref('int_snapshot_dates') }} as snapshots
        on clean_transactions.invoice_date < snapshots.snapshot_date
),

per_customer as (
    select
        snapshot_date,
        customer_id,
        min(invoice_date) as first_purchase_date,
        max(invoice_date) as last_purchase_date,
        count(distinct invoice_id) as frequency,
        sum(amount) as monetary_exact
    from sales
    group by 1, 2
)

select
    snapshot_date,
    customer_id,
    first_purchase_date,
    last_purchase_date,
    cast({{ dbt.datediff('last_purchase_date', 'snapshot_date', 'day') }} as integer) as recency_days,
    cast(frequency as integer) as frequency,
    cast(monetary_exact as decimal(18, 2)) as monetary
from per_customer
