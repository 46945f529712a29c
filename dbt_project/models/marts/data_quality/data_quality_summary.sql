-- One row per outcome (valid, or a reject reason even when no line has it); rows add up
-- to the input's data rows (test rows_add_up_to_source).
with outcome_counts as (
    select
        coalesce(reject_reason, 'valid') as outcome,
        count(*) as line_count
    from {{ ref('int_transaction_lines_classified') }}
    group by 1
),

outcomes as (
    select 'valid' as outcome, 0 as precedence, 'A sale line used for RFM.' as description
    union all
    select reason, precedence, description from {{ ref('reject_reasons') }}
)

select
    outcomes.outcome,
    cast(outcomes.precedence as integer) as precedence,
    outcomes.description,
    cast(coalesce(outcome_counts.line_count, 0) as bigint) as rows,
    cast(coalesce(outcome_counts.line_count, 0) as double)
        / sum(coalesce(outcome_counts.line_count, 0)) over () as share
from outcomes
left join outcome_counts
    on outcomes.outcome = outcome_counts.outcome
