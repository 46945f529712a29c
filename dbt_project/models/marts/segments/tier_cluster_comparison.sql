-- Tier x cluster: how the quantile tiers and the K-Means clusters overlap.
with cells as (
    {{ lens_cells(ref('customer_segments'), ['tier', 'tier_rank', 'cluster_id', 'segment_name']) }}
)

select
    tier,
    cast(tier_rank as integer) as tier_rank,
    cast(cluster_id as integer) as cluster_id,
    segment_name,
    cast(customers as bigint) as customers,
    cast(customers as double) / sum(customers) over () as share_of_customers,
    cast(customers as double) / sum(customers) over (partition by tier) as share_of_tier,
    cast(customers as double) / sum(customers) over (partition by cluster_id) as share_of_cluster,
    cast(revenue as decimal(18, 2)) as revenue
from cells
