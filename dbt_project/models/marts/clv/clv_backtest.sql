-- Does the model beat the naive baseline? One row per backtest fit: totals and mean absolute
-- errors per customer (purchase days and spend) of the BG/NBD + Gamma-Gamma prediction against
-- "the repeat rate so far continues" (int_clv_backtest_customers). No row when no snapshot's
-- following period has happened; null errors when the fit failed (clv_fit_status).
{%- set measures = ['purchases', 'spend'] %}
with customers as (
    select * from {{ ref('int_clv_backtest_customers') }}
),

errors as (
    select
        snapshot_date,
        horizon_days,
        count(*) as customers,
        {% for measure in measures -%}
        sum(actual_{{ measure }}) as actual_{{ measure }},
        sum(predicted_{{ measure }}) as predicted_{{ measure }},
        sum(baseline_{{ measure }}) as baseline_{{ measure }},
        avg(abs(predicted_{{ measure }} - actual_{{ measure }})) as model_{{ measure }}_mae,
        avg(abs(baseline_{{ measure }} - actual_{{ measure }})) as baseline_{{ measure }}_mae{% if not loop.last %},{% endif %}
        {% endfor %}
    from customers
    group by 1, 2
)

-- columns come in the contract's order (_clv__models.yml)
select
    snapshot_date,
    cast(horizon_days as integer) as horizon_days,
    cast(customers as bigint) as customers,
    {% for measure in measures -%}
    {% for column in ['actual_', 'predicted_', 'baseline_'] -%}
    cast({{ column }}{{ measure }} as double) as {{ column }}{{ measure }},
    {% endfor -%}
    cast(model_{{ measure }}_mae as double) as model_{{ measure }}_mae,
    cast(baseline_{{ measure }}_mae as double) as baseline_{{ measure }}_mae,
    model_{{ measure }}_mae < baseline_{{ measure }}_mae as model_beats_baseline_on_{{ measure }}{% if not loop.last %},{% endif %}
    {% endfor %}
from errors
