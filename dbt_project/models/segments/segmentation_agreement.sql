-- Do the binned tiers and the clusters tell the same story? 1 = identical partitions, ~0 = unrelated.
select
    'tier' as segmentation_a,
    'cluster' as segmentation_b,
    metrics.*
from ({{ agreement_metrics(ref('customer_segments'), 'tier', 'cluster_id') }}) as metrics
