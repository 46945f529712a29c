-- The backtest per customer: what the 'backtest' fit predicted for the backtest_horizon_days
-- after the snapshot, what a naive baseline predicts (the customer's repeat-purchase rate so far
-- continues: btyd_frequency / btyd_age_days purchase days per day, at the mean repeat order
-- value), and what happened (purchase days and spend). Customers: those who bought before the
-- snapshot.
{% set horizon = var('backtest_horizon_days') | int -%}
with summary as (
    select * from {{ ref('int_customer_btyd_summaries') }}
    where fit_purpose = 'backtest'
),

fits as (
    select * from {{ ref('int_customer_clv_fits') }}
    where fit_purpose = 'backtest'
),

actual as (
    select
        summary.customer_id,
        count(distinct sales.invoice_date) as purchase_days,
        sum(sales.amount) as spend
    from summary
    join {{ ref('int_transactions_cleaned') }} as sales
        on sales.customer_id = summary.customer_id
        and sales.invoice_date >= summary.observation_end_date
        and sales.invoice_date < {{ dbt.dateadd('day', horizon, 'summary.observation_end_date') }}
    group by 1
)

select
    summary.observation_end_date as snapshot_date,
    cast(fits.horizon_days as integer) as horizon_days,
    summary.customer_id,
    -- exact decimals, so the marts' sums do not depend on the order DuckDB's threads add in
    cast(fits.expected_purchases as decimal(18, 6)) as predicted_purchases,
    cast(fits.expected_revenue as decimal(18, 4)) as predicted_spend,
    cast(fits.horizon_days * summary.btyd_frequency / greatest(summary.btyd_age_days, 1) as decimal(18, 6)) as baseline_purchases,
    cast(fits.horizon_days * summary.btyd_frequency / greatest(summary.btyd_age_days, 1)
        * summary.mean_repeat_order_value as decimal(18, 4)) as baseline_spend,
    cast(coalesce(actual.purchase_days, 0) as integer) as actual_purchases,
    cast(coalesce(actual.spend, 0) as decimal(18, 2)) as actual_spend
from summary
join fits
    on summary.customer_id = cast(fits.customer_id as {{ dbt.type_string() }})
left join actual
    on summary.customer_id = actual.customer_id
