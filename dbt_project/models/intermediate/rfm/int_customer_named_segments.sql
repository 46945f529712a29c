-- Recency word and classic named RFM segment per customer today: the as-of snapshot of
-- int_snapshot_customer_named_segments, so today's marts and the history's latest snapshot are
-- one computation (rules there).
{{ as_of_snapshot(ref('int_snapshot_customer_named_segments'), [
    'customer_id', 'recency_word', 'named_r_score', 'fm_score', 'named_segment']) }}
