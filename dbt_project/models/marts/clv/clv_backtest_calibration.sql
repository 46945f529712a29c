-- Calibration of the backtest: customers in ten equal-count groups by predicted purchase days
-- (decile 10 = most expected), mean predicted against mean actual (and the naive baseline).
-- Empty when the backtest fit failed or no snapshot's following period has happened.
with ranked as (
    select
        *,
        ntile(10) over (order by predicted_purchases, customer_id) as predicted_decile
    from {{ ref('int_clv_backtest_customers') }}
    where predicted_purchases is not null
)

select
    snapshot_date,
    cast(predicted_decile as integer) as predicted_decile,
    cast(count(*) as bigint) as customers,
    cast(avg(predicted_purchases) as double) as mean_predicted_purchases,
    cast(avg(baseline_purchases) as double) as mean_baseline_purchases,
    cast(avg(actual_purchases) as double) as mean_actual_purchases,
    cast(avg(predicted_spend) as double) as mean_predicted_spend,
    cast(avg(actual_spend) as double) as mean_actual_spend
from ranked
group by 1, 2
