-- Do the segments predict? For each snapshot whose following period of backtest_horizon_days
-- has fully happened (snapshot + horizon <= as-of date), per lens (tier, cluster, named segment)
-- and segment: how many of its customers bought again in that period, what they spent, and how
-- much of the next-period spend the lens explains (eta squared of ln(1 + spend) by segment).
-- Strategies premised on customers not coming back (seed strategy_premises) are checked.
-- Floating sums go through exact decimals (macros exact_sum / exact_avg): a rebuild, incremental
-- or not, gives identical digits.
{% set lenses = {'tier': 'tier', 'cluster': 'segment_name', 'named_segment': 'named_segment'} -%}
with outcomes as (
    select
        history.snapshot_date,
        spend.period_end_date,
        spend.horizon_days,
        history.customer_id,
        history.tier,
        history.segment_name,
        history.segment_archetype,
        history.named_segment,
        spend.next_period_orders > 0 as bought_again,
        spend.next_period_spend as next_spend,
        ln(1 + greatest(cast(spend.next_period_spend as double), 0)) as log_next_spend
    from {{ ref('customer_segment_history') }} as history
    join {{ ref('int_snapshot_next_period_spend') }} as spend
        on history.snapshot_date = spend.snapshot_date
        and history.customer_id = spend.customer_id
),

per_segment as (
    {% for lens, column in lenses.items() -%}
    select
        '{{ lens }}' as lens,
        snapshot_date,
        period_end_date,
        horizon_days,
        coalesce(cast({{ column }} as {{ dbt.type_string() }}), '(no model)') as segment,
        {% if lens == 'cluster' -%} min(segment_archetype) {%- else -%} min({{ column }}) {%- endif %} as strategy_key,
        count(*) as customers,
        sum(case when bought_again then 1 else 0 end) as customers_bought_again,
        sum(next_spend) as next_period_revenue,
        {{ exact_avg('log_next_spend') }} as mean_log_next_spend
    from outcomes
    group by snapshot_date, period_end_date, horizon_days, coalesce(cast({{ column }} as {{ dbt.type_string() }}), '(no model)')
    {% if not loop.last %}union all
    {% endif %}{% endfor %}
),

snapshot_means as (
    select snapshot_date, {{ exact_avg('log_next_spend') }} as mean_log_next_spend
    from outcomes
    group by snapshot_date
),

per_snapshot as (
    select
        outcomes.snapshot_date,
        max(snapshot_means.mean_log_next_spend) as mean_log_next_spend,
        {{ exact_sum('power(outcomes.log_next_spend - snapshot_means.mean_log_next_spend, 2)') }} as total_sum_of_squares
    from outcomes
    join snapshot_means
        on outcomes.snapshot_date = snapshot_means.snapshot_date
    group by outcomes.snapshot_date
),

explained as (
    select
        per_segment.lens,
        per_segment.snapshot_date,
        {{ exact_sum('per_segment.customers * power(per_segment.mean_log_next_spend - per_snapshot.mean_log_next_spend, 2)') }}
            / nullif(max(per_snapshot.total_sum_of_squares), 0) as explained_share
    from per_segment
    join per_snapshot
        on per_segment.snapshot_date = per_snapshot.snapshot_date
    group by per_segment.lens, per_segment.snapshot_date
)

select
    per_segment.lens,
    per_segment.snapshot_date,
    per_segment.period_end_date,
    per_segment.horizon_days,
    per_segment.segment,
    cast(per_segment.customers as bigint) as customers,
    cast(per_segment.customers_bought_again as bigint) as customers_bought_again,
    cast(per_segment.customers_bought_again as double) / per_segment.customers as rebuy_rate,
    cast(per_segment.next_period_revenue as decimal(18, 2)) as next_period_revenue,
    cast(per_segment.next_period_revenue / nullif(sum(per_segment.next_period_revenue) over (
        partition by per_segment.lens, per_segment.snapshot_date), 0) as double) as next_period_revenue_share,
    cast(per_segment.next_period_revenue / per_segment.customers as double) as revenue_per_customer,
    cast(explained.explained_share as double) as lens_explained_share,
    per_segment.snapshot_date = max(per_segment.snapshot_date) over () as is_latest_complete_period,
    premises.premise as strategy_premise,
    cast(premises.max_rebuy_rate as double) as premise_max_rebuy_rate,
    coalesce(cast(per_segment.customers_bought_again as double) / per_segment.customers
        > premises.max_rebuy_rate, false) as strategy_contradicted
from per_segment
join explained
    on per_segment.lens = explained.lens
    and per_segment.snapshot_date = explained.snapshot_date
left join {{ ref('strategy_premises') }} as premises
    on per_segment.lens = premises.lens
    and per_segment.strategy_key = premises.segment
