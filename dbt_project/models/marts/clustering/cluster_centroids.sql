-- Centres of today's (served) clusters back in days, orders and pounds (see the model description).
-- Logs are summed as exact decimals so a rebuild gives identical digits.
select
    cast(clusters.cluster_id as integer) as cluster_id,
    clusters.segment_name,
    count(*) as customers,
    exp({{ exact_avg('ln(1 + rfm.recency_days)') }}) - 1 as recency_days,
    exp({{ exact_avg('ln(1 + rfm.frequency)') }}) - 1 as frequency,
    exp({{ exact_avg('ln(1 + cast(rfm.monetary as double))') }}) - 1 as monetary
from {{ ref('int_customer_served_clusters') }} as clusters
join {{ ref('customer_rfm') }} as rfm
    on clusters.customer_id = rfm.customer_id
group by clusters.cluster_id, clusters.segment_name
