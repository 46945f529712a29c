-- One row per CLV fit ('current', 'backtest'): fitted or failed and why, the data it saw and the
-- fitted parameters. A failed fit leaves the predictions null; the rest of the build goes on.
with purposes as (
    select 'current' as fit_purpose,
        'no customers with a valid sale before the as-of date' as reason_when_absent
    union all
    select 'backtest', 'no snapshot whose following backtest_horizon_days have happened'
),

fits as (
    select
        fit_purpose,
        max(horizon_days) as horizon_days,
        max(fit_status) as fit_status,
        max(fit_reason) as fit_reason,
        max(fit_customers) as fit_customers,
        max(fit_repeat_customers) as fit_repeat_customers,
        max(param_a) as param_a,
        max(param_b) as param_b,
        max(param_alpha) as param_alpha,
        max(param_r) as param_r,
        max(param_p) as param_p,
        max(param_q) as param_q,
        max(param_v) as param_v,
        max(fit_seconds) as fit_seconds
    from {{ ref('int_customer_clv_fits') }}
    group by 1
),

observation_ends as (
    select fit_purpose, max(observation_end_date) as observation_end_date
    from {{ ref('int_customer_btyd_summaries') }}
    group by 1
)

select
    purposes.fit_purpose,
    observation_ends.observation_end_date,
    cast(fits.horizon_days as integer) as horizon_days,
    cast(coalesce(fits.fit_status, 'not run') as {{ dbt.type_string() }}) as fit_status,
    cast(case when fits.fit_status is null then purposes.reason_when_absent else fits.fit_reason end as {{ dbt.type_string() }}) as fit_reason,
    cast(coalesce(fits.fit_customers, 0) as integer) as customers,
    cast(coalesce(fits.fit_repeat_customers, 0) as integer) as repeat_customers,
    cast(fits.param_r as double) as bgnbd_r,
    cast(fits.param_alpha as double) as bgnbd_alpha,
    cast(fits.param_a as double) as bgnbd_a,
    cast(fits.param_b as double) as bgnbd_b,
    cast(fits.param_p as double) as gamma_gamma_p,
    cast(fits.param_q as double) as gamma_gamma_q,
    cast(fits.param_v as double) as gamma_gamma_v,
    cast(fits.fit_seconds as double) as fit_seconds
from purposes
left join fits
    on purposes.fit_purpose = fits.fit_purpose
left join observation_ends
    on purposes.fit_purpose = observation_ends.fit_purpose
