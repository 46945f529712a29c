{# A better value never gets a worse score: ordered by value, each score never steps down
   (recency reversed), and equal values share one score. #}
{% test scores_monotonic_in_values(model) %}
with scored as (
    select rfm.recency_days, rfm.frequency, rfm.monetary, tiers.r_score, tiers.f_score, tiers.m_score
    from {{ model }} as tiers
    join {{ ref('customer_rfm') }} as rfm on tiers.customer_id = rfm.customer_id
),
per_value as (
    select 'recency' as metric, -recency_days as goodness, min(r_score) as low, max(r_score) as high from scored group by 2
    union all
    select 'frequency', frequency, min(f_score), max(f_score) from scored group by 2
    union all
    select 'monetary', monetary, min(m_score), max(m_score) from scored group by 2
),
stepped as (
    select *, lag(high) over (partition by metric order by goodness) as previous_high
    from per_value
)
select * from stepped
where low <> high or low < previous_high
{% endtest %}
