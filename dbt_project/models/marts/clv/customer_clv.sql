-- Expected value and churn risk per customer (BG/NBD + Gamma-Gamma, the 'current' fit), with the
-- BTYD summary it was predicted from. Predictions are null when the fit failed (clv_fit_status).
select
    summary.customer_id,
    summary.btyd_frequency,
    summary.btyd_recency_days,
    summary.btyd_age_days,
    cast(summary.mean_repeat_order_value as double) as mean_repeat_order_value,
    cast(fits.probability_alive as double) as probability_alive,
    cast(1 - fits.probability_alive as double) as churn_risk,
    cast(fits.expected_purchases as double) as expected_purchases,
    cast(fits.expected_order_value as double) as expected_order_value,
    cast(fits.expected_revenue as double) as expected_revenue,
    cast(fits.expected_lifetime_value as double) as expected_lifetime_value,
    cast(fits.horizon_days as integer) as clv_horizon_days,
    summary.observation_end_date as as_of_date
from {{ ref('int_customer_btyd_summaries') }} as summary
join {{ ref('int_customer_clv_fits') }} as fits
    on summary.customer_id = cast(fits.customer_id as {{ dbt.type_string() }})
    and summary.fit_purpose = fits.fit_purpose
where summary.fit_purpose = 'current'
