-- Do the three lenses tell the same story? One row per pair; 1 = identical partitions, ~0 = unrelated.
{% set pairs = [
    ('tier', 'cluster', 'tier', 'cluster_id'),
    ('tier', 'named_segment', 'tier', 'named_segment'),
    ('cluster', 'named_segment', 'cluster_id', 'named_segment'),
] %}
{% for name_a, name_b, column_a, column_b in pairs %}
select
    '{{ name_a }}' as segmentation_a,
    '{{ name_b }}' as segmentation_b,
    metrics.*
from ({{ agreement_metrics(ref('customer_segments'), column_a, column_b) }}) as metrics
{% if not loop.last %}union all{% endif %}
{% endfor %}
