{# What every per-segment profile measures over its members (rows of customer_segments). Sums of
   doubles go through exact decimals: a double sum depends on the order DuckDB's threads add in. #}
{% macro segment_member_measures() -%}
    count(*) as customers,
    sum(monetary) as revenue,
    sum(cast(expected_revenue as decimal(18, 2))) as expected_revenue,
    avg(cast(churn_risk as decimal(18, 12))) as mean_churn_risk,
    avg(recency_days) as mean_recency_days,
    avg(frequency) as mean_frequency,
    avg(monetary) as mean_monetary
{%- endmacro %}

{# What a profile shows of its segment's latest complete backtest period (a segment_backtest row
   aliased `backtest`; absent when no period has happened yet). #}
{% macro segment_backtest_columns(backtest) -%}
    {{ backtest }}.snapshot_date as backtest_snapshot_date,
    {{ backtest }}.customers as backtest_customers,
    {{ backtest }}.rebuy_rate as backtest_rebuy_rate,
    {{ backtest }}.next_period_revenue_share as backtest_revenue_share,
    {{ backtest }}.revenue_per_customer as backtest_revenue_per_customer,
    {{ backtest }}.strategy_premise,
    coalesce({{ backtest }}.strategy_contradicted, false) as strategy_contradicted
{%- endmacro %}

{# A profile's typed measures from segment_member_measures: the means, and the expected revenue
   and its share of `total_expected_revenue` (the profiles' total). #}
{% macro segment_profile_columns(profiles, total_expected_revenue) -%}
    cast({{ profiles }}.mean_recency_days as double) as mean_recency_days,
    cast({{ profiles }}.mean_frequency as double) as mean_frequency,
    cast({{ profiles }}.mean_monetary as double) as mean_monetary,
    cast({{ profiles }}.expected_revenue as double) as expected_revenue,
    cast({{ profiles }}.expected_revenue / nullif({{ total_expected_revenue }}, 0) as double) as expected_revenue_share,
    cast({{ profiles }}.mean_churn_risk as double) as mean_churn_risk
{%- endmacro %}

{# Customers and revenue per combination of the lenses `columns` present in `relation`
   (customer_segments): the cells the lens comparison marts share out. #}
{% macro lens_cells(relation, columns) -%}
    select
        {{ columns | join(', ') }},
        count(*) as customers,
        sum(monetary) as revenue
    from {{ relation }}
    group by {{ columns | join(', ') }}
{%- endmacro %}
