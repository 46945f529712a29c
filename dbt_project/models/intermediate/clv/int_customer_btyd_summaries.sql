-- The BTYD summary (BG/NBD and Gamma-Gamma's input) per customer, in days, for each fit:
-- 'current' (sales before the as-of date) and 'backtest' (sales before the latest snapshot whose
-- following backtest_horizon_days have happened). A purchase is a customer-day (the models'
-- time unit), so two invoices on one day are one purchase.
-- btyd_recency_days is last minus first purchase day (the models' recency); the project's
-- recency_days counts from the last purchase to the as-of date.
with observation_ends as (
    select 'current' as fit_purpose, as_of_date as observation_end_date
    from {{ ref('int_rfm_as_of_date') }}
    union all
    select 'backtest', max(snapshot_date)
    from {{ ref('int_snapshot_next_period_spend') }}
    having max(snapshot_date) is not null
),

customer_days as (
    select customer_id, invoice_date, sum(amount) as spend
    from {{ ref('int_transactions_cleaned') }}
    group by customer_id, invoice_date
),

ranked as (
    select
        ends.fit_purpose,
        ends.observation_end_date,
        customer_days.customer_id,
        customer_days.invoice_date,
        customer_days.spend,
        row_number() over (
            partition by ends.fit_purpose, customer_days.customer_id
            order by customer_days.invoice_date
        ) as purchase_number
    from observation_ends as ends
    join customer_days
        on customer_days.invoice_date < ends.observation_end_date
),

per_customer as (
    select
        fit_purpose,
        observation_end_date,
        customer_id,
        min(invoice_date) as first_purchase_date,
        max(invoice_date) as last_purchase_date,
        count(*) - 1 as repeat_purchases,
        sum(case when purchase_number > 1 then spend end) as repeat_spend
    from ranked
    group by 1, 2, 3
)

select
    fit_purpose,
    observation_end_date,
    customer_id,
    cast(repeat_purchases as integer) as btyd_frequency,
    cast({{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }} as integer) as btyd_recency_days,
    cast({{ dbt.datediff('first_purchase_date', 'observation_end_date', 'day') }} as integer) as btyd_age_days,
    cast(coalesce(repeat_spend / nullif(repeat_purchases, 0), 0) as double) as mean_repeat_order_value
from per_customer
