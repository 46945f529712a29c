-- From each snapshot to the next: customers and revenue moving between tiers, clusters and named
-- segments, one row per (lens, from, to, source, target); Sankey-ready. Customers first seen at a
-- snapshot come from '(new customer)'; customers present before but not after go to '(left)'.
{% set lenses = {'tier': 'tier', 'cluster': 'segment_name', 'named_segment': 'named_segment'} -%}
with history as (
    select * from {{ ref('customer_segment_history') }}
),

snapshots as (
    select
        snapshot_date,
        lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date
    from {{ ref('int_snapshot_dates') }}
),

leaving as (
    -- the snapshot they are gone at, and where they were before (lens columns only: no name twice)
    select snapshots.snapshot_date{% for column in lenses.values() %}, before.{{ column }}{% endfor %}
    from snapshots
    join history as before
        on snapshots.previous_snapshot_date = before.snapshot_date
    left join history as after
        on snapshots.snapshot_date = after.snapshot_date
        and before.customer_id = after.customer_id
    where after.customer_id is null
),

moves as (
    {% for lens, column in lenses.items() -%}
    select
        '{{ lens }}' as lens,
        previous_snapshot_date as from_snapshot_date,
        snapshot_date as to_snapshot_date,
        case when is_new_customer then '(new customer)'
            else coalesce(cast(previous_{{ column }} as {{ dbt.type_string() }}), '(no model)') end as source,
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '(no model)') as target,
        period_revenue
    from history
    where previous_snapshot_date is not null
    union all
    select
        '{{ lens }}' as lens,
        leaving.snapshot_date as from_snapshot_date,
        leaving.snapshot_date as to_snapshot_date,
        coalesce(cast(leaving.{{ column }} as {{ dbt.type_string() }}), '(no model)') as source,
        '(left)' as target,
        cast(0 as decimal(18, 2)) as period_revenue
    from leaving
    {% if not loop.last %}union all
    {% endif %}{% endfor %}
)

select
    lens,
    from_snapshot_date,
    to_snapshot_date,
    source,
    target,
    count(*) as customers,
    cast(sum(period_revenue) as decimal(18, 2)) as revenue
from moves
group by lens, from_snapshot_date, to_snapshot_date, source, target
