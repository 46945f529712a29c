-- Recency word and classic named segment per customer per snapshot. The recency word comes from
-- business time (int_snapshot_recency_words: the first word whose day bound the customer's recency
-- does not exceed). The named segment is looked up in seed rfm_named_segment_map with r_score
-- clamped into the word's [min_r_score, max_r_score], so a customer idle for 485 days is never
-- "About to Sleep" (a Dormant customer has r at most 1) and one who bought last week is never
-- "Lost". Not incremental: editing seed recency_words renames every snapshot.
with worded as (
    select
        scores.snapshot_date,
        scores.customer_id,
        scores.r_score,
        scores.fm_score,
        words.recency_word,
        words.min_r_score,
        words.max_r_score,
        row_number() over (
            partition by scores.snapshot_date, scores.customer_id order by words.word_order
        ) as word_rank
    from {{ ref('int_snapshot_customer_scores') }} as scores
    join {{ ref('int_snapshot_recency_words') }} as words
        on scores.snapshot_date = words.snapshot_date
        and (words.up_to_days is null or scores.recency_days <= words.up_to_days)
),

clamped as (
    select
        snapshot_date,
        customer_id,
        recency_word,
        cast(greatest(min_r_score, least(max_r_score, r_score)) as integer) as named_r_score,
        fm_score
    from worded
    where word_rank = 1
)

select
    clamped.snapshot_date,
    clamped.customer_id,
    clamped.recency_word,
    clamped.named_r_score,
    clamped.fm_score,
    segment_map.named_segment
from clamped
left join {{ ref('rfm_named_segment_map') }} as segment_map
    on clamped.named_r_score = segment_map.r_score
    and clamped.fm_score = segment_map.fm_score
