-- Per classic named RFM segment: size, revenue, typical R/F/M and the recommended action.
-- Segments no customer falls in are kept with zero customers, so BI shows the full list.
with members as (
    select * from {{ ref('customer_segments') }}
),

profiles as (
    select
        named_segment,
        {{ segment_member_measures() }}
    from members
    group by 1
),

totals as (
    select count(*) as customers, sum(monetary) as revenue, sum(cast(expected_revenue as decimal(18, 2))) as expected_revenue
    from members
),

backtest as (
    select * from {{ ref('segment_backtest') }}
    where lens = 'named_segment' and is_latest_complete_period
)

select
    segments.named_segment,
    cast(segments.segment_order as integer) as segment_order,
    cast(coalesce(profiles.customers, 0) as bigint) as customers,
    cast(coalesce(profiles.customers, 0) as double) / totals.customers as customer_share,
    cast(coalesce(profiles.revenue, 0) as decimal(18, 2)) as revenue,
    cast(coalesce(profiles.revenue, 0) / nullif(totals.revenue, 0) as double) as revenue_share,
    cast(profiles.mean_recency_days as double) as mean_recency_days,
    cast(profiles.mean_frequency as double) as mean_frequency,
    cast(profiles.mean_monetary as double) as mean_monetary,
    segments.description,
    segments.recommended_action,
    backtest.snapshot_date as backtest_snapshot_date,
    backtest.customers as backtest_customers,
    backtest.rebuy_rate as backtest_rebuy_rate,
    backtest.next_period_revenue_share as backtest_revenue_share,
    backtest.revenue_per_customer as backtest_revenue_per_customer,
    backtest.strategy_premise,
    coalesce(backtest.strategy_contradicted, false) as strategy_contradicted,
    cast(profiles.expected_revenue as double) as expected_revenue,
    cast(profiles.expected_revenue / nullif(totals.expected_revenue, 0) as double) as expected_revenue_share,
    cast(profiles.mean_churn_risk as double) as mean_churn_risk,
    attribute_highlights.distinguishing_attributes
from {{ ref('rfm_named_segments') }} as segments
cross join totals
left join profiles
    on segments.named_segment = profiles.named_segment
left join backtest
    on segments.named_segment = backtest.segment
left join {{ ref('segment_attribute_highlights') }} as attribute_highlights
    on attribute_highlights.lens = 'named_segment'
    and segments.named_segment = attribute_highlights.segment
