-- Per served K-Means cluster: size, revenue, typical R/F/M, what to do with it, and what the
-- cluster of that name did in the latest complete backtest period (segment_backtest). Columns
-- come in the contract's order (_segments__models.yml), whatever their order here.
with members as (
    select * from {{ ref('customer_segments') }}
),

profiles as (
    select
        cluster_id,
        segment_name,
        segment_archetype,
        shares_strategy_with,
        strategy,
        channel,
        offer,
        {{ segment_member_measures() }},
        percentile_cont(0.5) within group (order by recency_days) as median_recency_days,
        percentile_cont(0.5) within group (order by frequency) as median_frequency,
        percentile_cont(0.5) within group (order by monetary) as median_monetary
    from members
    group by 1, 2, 3, 4, 5, 6, 7
),

-- the same cluster id at the backtest snapshot (ids persist across model versions; names may not)
backtest as (
    select distinct clusters.cluster_id, backtest.*
    from {{ ref('segment_backtest') }} as backtest
    join {{ ref('customer_segment_history') }} as clusters
        on backtest.snapshot_date = clusters.snapshot_date
        and backtest.segment = clusters.segment_name
    where backtest.lens = 'cluster' and backtest.is_latest_complete_period
)

select
    profiles.cluster_id,
    profiles.segment_name,
    cast(profiles.customers as bigint) as customers,
    cast(profiles.customers as double) / sum(profiles.customers) over () as customer_share,
    cast(profiles.revenue as decimal(18, 2)) as revenue,
    cast(profiles.revenue / sum(profiles.revenue) over () as double) as revenue_share,
    {{ segment_profile_columns('profiles', 'sum(profiles.expected_revenue) over ()') }},
    cast(profiles.median_recency_days as double) as median_recency_days,
    cast(profiles.median_frequency as double) as median_frequency,
    cast(profiles.median_monetary as double) as median_monetary,
    cast(centroids.recency_days as double) as centroid_recency_days,
    cast(centroids.frequency as double) as centroid_frequency,
    cast(centroids.monetary as double) as centroid_monetary,
    cast(stability.mean_jaccard as double) as stability_jaccard,
    stability.is_stable,
    profiles.strategy,
    profiles.channel,
    profiles.offer,
    profiles.segment_archetype,
    profiles.shares_strategy_with,
    {{ segment_backtest_columns('backtest') }},
    backtest.segment as backtest_segment_name,
    backtest.horizon_days as backtest_horizon_days,
    backtest.lens_explained_share as backtest_lens_explained_share,
    attribute_highlights.distinguishing_attributes
from profiles
join {{ ref('cluster_centroids') }} as centroids
    on profiles.cluster_id = centroids.cluster_id
join {{ ref('cluster_stability') }} as stability
    on profiles.cluster_id = stability.cluster_id
left join backtest
    on profiles.cluster_id = backtest.cluster_id
left join {{ ref('segment_attribute_highlights') }} as attribute_highlights
    on attribute_highlights.lens = 'cluster'
    and profiles.segment_name = attribute_highlights.segment
