-- Does the model beat the naive baseline? One row per backtest fit: totals and mean absolute
-- errors per customer (purchase days and spend) of the BG/NBD + Gamma-Gamma prediction against
-- "the repeat rate so far continues" (int_clv_backtest_customers). No row when no snapshot's
-- following period has happened; null errors when the fit failed (clv_fit_status).
with customers as (
    select * from {{ ref('int_clv_backtest_customers') }}
),

errors as (
    select
        snapshot_date,
        horizon_days,
        count(*) as customers,
        sum(actual_purchases) as actual_purchases,
        sum(predicted_purchases) as predicted_purchases,
        sum(baseline_purchases) as baseline_purchases,
        sum(actual_spend) as actual_spend,
        sum(predicted_spend) as predicted_spend,
        sum(baseline_spend) as baseline_spend,
        avg(abs(predicted_purchases - actual_purchases)) as model_purchases_mae,
        avg(abs(baseline_purchases - actual_purchases)) as baseline_purchases_mae,
        avg(abs(predicted_spend - actual_spend)) as model_spend_mae,
        avg(abs(baseline_spend - actual_spend)) as baseline_spend_mae
    from customers
    group by 1, 2
)

select
    snapshot_date,
    cast(horizon_days as integer) as horizon_days,
    cast(customers as bigint) as customers,
    cast(actual_purchases as double) as actual_purchases,
    cast(predicted_purchases as double) as predicted_purchases,
    cast(baseline_purchases as double) as baseline_purchases,
    cast(actual_spend as double) as actual_spend,
    cast(predicted_spend as double) as predicted_spend,
    cast(baseline_spend as double) as baseline_spend,
    cast(model_purchases_mae as double) as model_purchases_mae,
    cast(baseline_purchases_mae as double) as baseline_purchases_mae,
    cast(model_spend_mae as double) as model_spend_mae,
    cast(baseline_spend_mae as double) as baseline_spend_mae,
    model_purchases_mae < baseline_purchases_mae as model_beats_baseline_on_purchases,
    model_spend_mae < baseline_spend_mae as model_beats_baseline_on_spend
from errors
