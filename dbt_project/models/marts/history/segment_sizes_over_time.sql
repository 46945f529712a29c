-- Size and revenue share of every tier, cluster and named segment at every snapshot.
{% set lenses = {'tier': 'tier', 'cluster': 'segment_name', 'named_segment': 'named_segment'} -%}
with members as (
    {% for lens, column in lenses.items() -%}
    select
        '{{ lens }}' as lens,
        snapshot_date,
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '(no model)') as segment,
        monetary,
        period_revenue
    from {{ ref('customer_segment_history') }}
    {% if not loop.last %}union all
    {% endif %}{% endfor %}
),

sizes as (
    select
        lens,
        snapshot_date,
        segment,
        count(*) as customers,
        sum(monetary) as monetary,
        sum(period_revenue) as period_revenue
    from members
    group by lens, snapshot_date, segment
)

select
    lens,
    snapshot_date,
    segment,
    customers,
    cast(customers * 1.0 / sum(customers) over (partition by lens, snapshot_date) as double) as customer_share,
    cast(monetary as decimal(18, 2)) as monetary,
    cast(monetary / nullif(sum(monetary) over (partition by lens, snapshot_date), 0) as double) as monetary_share,
    cast(period_revenue as decimal(18, 2)) as period_revenue,
    cast(period_revenue / nullif(sum(period_revenue) over (partition by lens, snapshot_date), 0) as double) as period_revenue_share
from sizes
