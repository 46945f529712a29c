-- Scores and Platinum/Gold/Silver/Bronze tier per customer today: the as-of snapshot of
-- int_snapshot_customer_scores (cut points and rules there).
{{ as_of_snapshot(ref('int_snapshot_customer_scores'), [
    'customer_id', 'r_score', 'f_score', 'm_score', 'rfm_score', 'tier_rank', 'tier']) }}
