-- Today's cluster of each customer: the as-of snapshot of int_snapshot_customer_clusters, i.e.
-- the stored model version serving at the as-of date. The one answer every mart uses.
select
    clusters.customer_id,
    clusters.model_version,
    clusters.cluster_id,
    clusters.segment_name,
    clusters.segment_archetype,
    clusters.shares_strategy_with
from {{ ref('int_snapshot_customer_clusters') }} as clusters
join {{ ref('int_rfm_as_of_date') }} as as_of
    on clusters.snapshot_date = as_of.as_of_date
