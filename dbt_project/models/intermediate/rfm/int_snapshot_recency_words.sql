-- Business-time recency words per snapshot: the purchase cycle (median gap in days between
-- consecutive purchase days of the same customer, from the valid sales before the snapshot) and,
-- per word of seed recency_words, its upper bound in days: the seed's up_to_days when a marketer
-- filled it in, else up_to_purchase_cycles x the purchase cycle (rounded to whole days). The last
-- word (Dormant) has no bound. One row per snapshot and word; the as-of date is a snapshot, so
-- today's marts and the history use the same rows.
with purchase_days as (
    select distinct customer_id, invoice_date
    from {{ ref('int_transactions_cleaned') }}
),

gaps as (
    select
        customer_id,
        invoice_date,
        {{ dbt.datediff('lag(invoice_date) over (partition by customer_id order by invoice_date)', 'invoice_date', 'day') }} as gap_days
    from purchase_days
),

cycles as (
    select
        snapshots.snapshot_date,
        percentile_cont(0.5) within group (order by gaps.gap_days) as purchase_cycle_days,
        count(gaps.gap_days) as repeat_gaps
    from {{ ref('int_snapshot_dates') }} as snapshots
    left join gaps
        on gaps.invoice_date < snapshots.snapshot_date
        and gaps.gap_days is not null
    group by snapshots.snapshot_date
)

select
    cycles.snapshot_date,
    cast(cycles.purchase_cycle_days as double) as purchase_cycle_days,
    cast(cycles.repeat_gaps as integer) as repeat_gaps,
    words.recency_word,
    cast(words.word_order as integer) as word_order,
    cast(coalesce(
        words.up_to_days,
        -- no repeat buyer yet: a 30-day month stands in for the cycle
        round(words.up_to_purchase_cycles * coalesce(cycles.purchase_cycle_days, 30))
    ) as integer) as up_to_days,
    case
        when words.up_to_days is not null then 'seed up_to_days'
        when words.up_to_purchase_cycles is null then 'no upper bound'
        when cycles.purchase_cycle_days is null then 'up_to_purchase_cycles x 30 days (no repeat buyers yet)'
        else 'up_to_purchase_cycles x purchase cycle'
    end as bound_source,
    cast(words.min_r_score as integer) as min_r_score,
    cast(words.max_r_score as integer) as max_r_score
from cycles
cross join {{ ref('recency_words') }} as words
