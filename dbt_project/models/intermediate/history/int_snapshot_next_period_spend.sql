-- What each customer of a snapshot did in the following backtest_horizon_days: orders and spend,
-- for the snapshots whose following period has fully happened (snapshot + horizon <= as-of date).
-- One row per snapshot and customer present at it (zero when they did not buy). Feeds the
-- backtest mart and the k evaluation.
{% set horizon = var('backtest_horizon_days') | int -%}
with as_of as (
    select max(as_of_date) as as_of_date from {{ ref('int_rfm_as_of_date') }}
),

periods as (
    select
        snapshots.snapshot_date,
        cast({{ dbt.dateadd('day', horizon, 'snapshots.snapshot_date') }} as date) as period_end_date
    from {{ ref('int_snapshot_dates') }} as snapshots
    cross join as_of
    where {{ dbt.dateadd('day', horizon, 'snapshots.snapshot_date') }} <= as_of.as_of_date
),

customer_days as (
    select
        customer_id,
        invoice_date,
        count(distinct invoice_id) as orders,
        sum(amount) as spend
    from {{ ref('int_transactions_cleaned') }}
    group by customer_id, invoice_date
),

next_period as (
    select
        periods.snapshot_date,
        customer_days.customer_id,
        sum(customer_days.orders) as orders,
        sum(customer_days.spend) as spend
    from periods
    join customer_days
        on customer_days.invoice_date >= periods.snapshot_date
        and customer_days.invoice_date < periods.period_end_date
    group by periods.snapshot_date, customer_days.customer_id
)

select
    rfm.snapshot_date,
    periods.period_end_date,
    cast({{ horizon }} as integer) as horizon_days,
    rfm.customer_id,
    rfm.recency_days,
    rfm.frequency,
    rfm.monetary,
    cast(coalesce(next_period.orders, 0) as integer) as next_period_orders,
    cast(coalesce(next_period.spend, 0) as decimal(18, 2)) as next_period_spend
from {{ ref('int_snapshot_customer_rfm') }} as rfm
join periods
    on rfm.snapshot_date = periods.snapshot_date
left join next_period
    on rfm.snapshot_date = next_period.snapshot_date
    and rfm.customer_id = next_period.customer_id
