-- One row per customer: RFM features, scores and tier, K-Means cluster and the strategies.
-- Today's cluster is the served model's (the stored version serving at the as-of date, the
-- history's latest snapshot), so ids and names persist across runs; today's fresh fit is the
-- candidate a retrain would give (candidate_cluster_id, candidate_segment_name).
select
    rfm.customer_id,
    rfm.country,
    rfm.recency_days,
    rfm.frequency,
    rfm.monetary,
    rfm.first_purchase_date,
    rfm.last_purchase_date,
    rfm.tenure_days,
    rfm.average_order_value,
    rfm.cancelled_value,
    tiers.r_score,
    tiers.f_score,
    tiers.m_score,
    tiers.rfm_score,
    tiers.tier,
    tiers.tier_rank,
    cast(served.cluster_id as integer) as cluster_id,
    served.segment_name,
    strategies.recommended_action as strategy,
    strategies.channel,
    strategies.offer,
    tier_strategies.recommended_action as tier_strategy,
    named.fm_score,
    named.named_segment,
    named_segments.recommended_action as named_segment_action,
    rfm.as_of_date,
    named.recency_word,
    served.model_version,
    served.segment_archetype,
    served.shares_strategy_with,
    cast(clusters.cluster_id as integer) as candidate_cluster_id,
    clusters.segment_name as candidate_segment_name,
    clv.probability_alive,
    clv.churn_risk,
    clv.expected_purchases,
    clv.expected_revenue,
    clv.expected_lifetime_value
from {{ ref('customer_rfm') }} as rfm
join {{ ref('customer_rfm_tiers') }} as tiers
    on rfm.customer_id = tiers.customer_id
join {{ ref('int_customer_served_clusters') }} as served
    on rfm.customer_id = served.customer_id
join {{ ref('customer_clusters') }} as clusters
    on rfm.customer_id = clusters.customer_id
left join {{ ref('segment_strategies') }} as strategies
    on served.segment_archetype = strategies.segment_archetype
left join {{ ref('tier_strategies') }} as tier_strategies
    on tiers.tier = tier_strategies.tier
join {{ ref('int_customer_named_segments') }} as named
    on rfm.customer_id = named.customer_id
left join {{ ref('rfm_named_segments') }} as named_segments
    on named.named_segment = named_segments.named_segment
left join {{ ref('customer_clv') }} as clv
    on rfm.customer_id = clv.customer_id
