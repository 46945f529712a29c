-- One row per customer per snapshot: features, tier, cluster and named segment as of that date,
-- the values at the previous snapshot, and since when each has been what it is.
{% set lenses = ['tier', 'cluster_id', 'segment_name', 'named_segment'] -%}
with snapshots as (
    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date
    from {{ ref('int_snapshot_dates') }}
),

current_values as (
    select
        scores.snapshot_date,
        snapshots.previous_snapshot_date,
        scores.customer_id,
        scores.recency_days,
        scores.frequency,
        scores.monetary,
        scores.r_score,
        scores.f_score,
        scores.m_score,
        scores.rfm_score,
        scores.tier,
        clusters.model_version,
        clusters.cluster_id,
        clusters.segment_name,
        clusters.segment_archetype,
        named.named_segment,
        named.recency_word
    from {{ ref('int_snapshot_customer_scores') }} as scores
    join snapshots
        on scores.snapshot_date = snapshots.snapshot_date
    join {{ ref('int_snapshot_customer_named_segments') }} as named
        on scores.snapshot_date = named.snapshot_date
        and scores.customer_id = named.customer_id
    left join {{ ref('int_snapshot_customer_clusters') }} as clusters
        on scores.snapshot_date = clusters.snapshot_date
        and scores.customer_id = clusters.customer_id
),

with_previous as (
    select
        current_values.*,
        previous_values.customer_id is null as is_new_customer,
        {% for lens in lenses -%}
        previous_values.{{ lens }} as previous_{{ lens }},
        {% endfor -%}
        previous_values.monetary as previous_monetary
    from current_values
    left join current_values as previous_values
        on current_values.previous_snapshot_date = previous_values.snapshot_date
        and current_values.customer_id = previous_values.customer_id
),

-- A new run starts whenever a value differs from the previous snapshot's; its first snapshot is
-- the date the value last changed.
runs as (
    select
        *,
        {% for lens in lenses -%}
        sum(case when previous_{{ lens }} is not distinct from {{ lens }} then 0 else 1 end)
            over (partition by customer_id order by snapshot_date rows unbounded preceding) as {{ lens }}_run
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from with_previous
)

select
    snapshot_date,
    customer_id,
    recency_days,
    frequency,
    monetary,
    cast(monetary - coalesce(previous_monetary, 0) as decimal(18, 2)) as period_revenue,
    r_score,
    f_score,
    m_score,
    rfm_score,
    tier,
    model_version,
    cluster_id,
    segment_name,
    named_segment,
    previous_snapshot_date,
    is_new_customer,
    previous_tier,
    previous_cluster_id,
    previous_segment_name,
    previous_named_segment,
    recency_word,
    segment_archetype,
    {% for lens in ['tier', 'cluster', 'named_segment'] -%}
    min(snapshot_date) over (
        partition by customer_id, {{ 'cluster_id' if lens == 'cluster' else lens }}_run
    ) as {{ lens }}_since
    {%- if not loop.last %},{% endif %}
    {% endfor %}
from runs
