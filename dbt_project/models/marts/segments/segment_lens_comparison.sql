-- Tier x cluster x named segment: how the three lenses overlap, one row per combination present.
with cells as (
    {{ lens_cells(ref('customer_segments'), ['tier', 'tier_rank', 'cluster_id', 'segment_name', 'named_segment']) }}
)

select
    tier,
    cast(tier_rank as integer) as tier_rank,
    cast(cluster_id as integer) as cluster_id,
    segment_name,
    named_segment,
    cast(customers as bigint) as customers,
    cast(customers as double) / sum(customers) over () as share_of_customers,
    cast(revenue as decimal(18, 2)) as revenue,
    cast(revenue / sum(revenue) over () as double) as share_of_revenue
from cells
