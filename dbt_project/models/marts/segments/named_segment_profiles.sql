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
    {{ segment_profile_columns('profiles', 'totals.expected_revenue') }},
    segments.description,
    segments.recommended_action,
    {{ segment_backtest_columns('backtest') }},
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
