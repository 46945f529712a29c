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
