-- Recency word and classic named RFM segment per customer today: the as-of snapshot of
-- int_snapshot_customer_named_segments, so today's marts and the history's latest snapshot are
-- one computation (rules there).
select
    named.customer_id,
    named.recency_word,
    named.named_r_score,
    named.fm_score,
    named.named_segment
from {{ ref('int_snapshot_customer_named_segments') }} as named
join {{ ref('int_rfm_as_of_date') }} as as_of
    on named.snapshot_date = as_of.as_of_date
