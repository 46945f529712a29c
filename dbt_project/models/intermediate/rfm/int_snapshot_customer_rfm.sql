{{ config(**per_snapshot_incremental()) }}
-- Recency, frequency and monetary per customer per snapshot, from the valid sales strictly
-- before the snapshot date only: the one RFM query. The as-of date is a snapshot, so its rows are
-- today's RFM (int_customer_rfm, marts.customer_rfm).
-- Incremental: a run recomputes only the snapshots whose input changed (new snapshot dates, or a
-- different count or total of the valid sales before the date, e.g. the latest snapshot after
-- lines were appended); the post-hook drops snapshots no longer in the list (the previous as-of
-- date). `dbt build --full-refresh` recomputes everything and gives the same rows.
-- A customer's sales per order and day, the one read of the lines: the snapshots join these, not
-- the lines, so their cost grows with orders x snapshots, never with lines x snapshots.
with order_days as (
    select customer_id, invoice_id, invoice_date, count(*) as lines, sum(amount) as amount
    from {{ ref('int_transactions_cleaned') }}
    group by customer_id, invoice_id, invoice_date
),

daily_sales as (
    select invoice_date, sum(lines) as lines, sum(amount) as amount
    from order_days
    group by invoice_date
),

snapshot_inputs as (
    select
        snapshots.snapshot_date,
        cast(coalesce(sum(daily_sales.lines), 0) as bigint) as input_lines,
        cast(coalesce(sum(daily_sales.amount), 0) as decimal(38, 2)) as input_amount
    from {{ ref('int_snapshot_dates') }} as snapshots
    left join daily_sales
        on daily_sales.invoice_date < snapshots.snapshot_date
    group by snapshots.snapshot_date
),

snapshots_to_build as (
    select snapshot_inputs.*
    from snapshot_inputs
    {# a table from before these columns existed is rebuilt whole #}
    {% if is_incremental() and 'average_order_value' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
    left join (select distinct snapshot_date, input_lines, input_amount from {{ this }}) as stored
        on snapshot_inputs.snapshot_date = stored.snapshot_date
    where stored.snapshot_date is null
        or stored.input_lines is distinct from snapshot_inputs.input_lines
        or stored.input_amount is distinct from snapshot_inputs.input_amount
    {%- endif %}
),

sales as (
    select
        snapshots.snapshot_date,
        order_days.customer_id,
        order_days.invoice_id,
        order_days.invoice_date,
        order_days.amount
    from order_days
    join snapshots_to_build as snapshots
        on order_days.invoice_date < snapshots.snapshot_date
),

per_customer as (
    select
        snapshot_date,
        customer_id,
        min(invoice_date) as first_purchase_date,
        max(invoice_date) as last_purchase_date,
        count(distinct invoice_id) as frequency,
        sum(amount) as monetary_exact
    from sales
    group by 1, 2
)

select
    per_customer.snapshot_date,
    per_customer.customer_id,
    per_customer.first_purchase_date,
    per_customer.last_purchase_date,
    cast({{ dbt.datediff('per_customer.last_purchase_date', 'per_customer.snapshot_date', 'day') }} as integer) as recency_days,
    cast(per_customer.frequency as integer) as frequency,
    cast(per_customer.monetary_exact as decimal(18, 2)) as monetary,
    cast({{ dbt.datediff('per_customer.first_purchase_date', 'per_customer.snapshot_date', 'day') }} as integer) as tenure_days,
    {{ money_per('per_customer.monetary_exact', 'per_customer.frequency') }} as average_order_value,
    snapshots.input_lines,
    snapshots.input_amount,
    '{{ invocation_id }}' as built_by_invocation_id
from per_customer
join snapshots_to_build as snapshots
    on per_customer.snapshot_date = snapshots.snapshot_date
