-- The dates the history is computed as of (see macro snapshot_date_list), always including the
-- as-of date: each snapshot uses only the valid sales strictly before its date.
{% set given = snapshot_date_list() -%}
{% if given -%}
{% for snapshot_date in given -%}
select cast({{ quote_text(snapshot_date) }} as date) as snapshot_date
union
{% endfor -%}
-- the as-of date is always a snapshot: its row is today's segmentation in every mart
select as_of_date from {{ ref('int_rfm_as_of_date') }}
{%- else -%}
with bounds as (
    select
        min(clean_transactions.invoice_date) as first_sale_date,
        max(as_of.as_of_date) as as_of_date
    from {{ ref('int_transactions_cleaned') }} as clean_transactions
    cross join {{ ref('int_rfm_as_of_date') }} as as_of
),

digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

month_offsets as (
    select hundreds.d * 100 + tens.d * 10 + ones.d + 1 as months_after
    from digits as hundreds cross join digits as tens cross join digits as ones
),

month_starts as (
    select cast({{ dbt.dateadd('month', 'month_offsets.months_after', dbt.date_trunc('month', 'bounds.first_sale_date')) }} as date) as snapshot_date,
        bounds.as_of_date
    from month_offsets
    cross join bounds
)

select snapshot_date from month_starts where snapshot_date < as_of_date
union
select as_of_date from bounds
{%- endif %}
