-- Today's cluster of each customer: the as-of snapshot of int_snapshot_customer_clusters, i.e.
-- the stored model version serving at the as-of date. The one answer every mart uses.
{{ as_of_snapshot(ref('int_snapshot_customer_clusters'), [
    'customer_id', 'model_version', 'cluster_id', 'segment_name', 'segment_archetype',
    'shares_strategy_with']) }}
