-- Every input line exactly once (parsed lines and the lines the CSV reader could not split),
-- with the first reject reason that applies (in the precedence of seed reject_reasons) or null
-- when the line is a valid sale.
with lines as (
    select * from {{ ref('stg_retail__transaction_lines') }}
),

non_product_codes as (
    select upper(stock_code) as stock_code from {{ ref('non_product_stock_codes') }}
),

flagged as (
    select
        lines.*,
        -- Money: the file's amount as given, else quantity x unit price (null when the product
        -- does not fit the amount's type: rejected as number_out_of_range, never a cast error).
        case
            when has_amount_column then given_amount
            when abs(cast(quantity as double) * cast(unit_price as double)) < {{ largest_amount() }}
                then cast(quantity * unit_price as decimal(18, 4))
        end as line_amount,
        case
            when not has_invoice_date then 'missing_invoice_date'
            when invoiced_at is null then 'unparseable_invoice_date'
            when cast(invoiced_at as date) > {{ run_date() }} then 'future_date'
            when cast(invoiced_at as date) < {{ earliest_plausible_date() }} then 'implausible_date'
            when has_amount_column and coalesce(amount_out_of_range, false) then 'number_out_of_range'
            when not has_amount_column and (coalesce(quantity_out_of_range, false) or coalesce(unit_price_out_of_range, false)) then 'number_out_of_range'
            when has_amount_column and given_amount is null then 'unparseable_amount'
            when not has_amount_column and quantity is null then 'unparseable_quantity'
            when not has_amount_column and unit_price is null then 'unparseable_unit_price'
            when not has_amount_column and line_amount is null then 'number_out_of_range'
            when customer_id is null then 'missing_customer'
            when has_invoice_column and invoice_id is null then 'missing_invoice'
            when upper(invoice_id) like 'A%' then 'bad_debt_adjustment'
            when upper(invoice_id) like 'C%' then 'cancellation'
            when non_product_codes.stock_code is not null then 'non_product_code'
            when not has_amount_column and quantity <= 0 then 'non_positive_quantity'
            when not has_amount_column and unit_price <= 0 then 'non_positive_price'
            when has_amount_column and given_amount <= 0 then 'non_positive_amount'
        end as reason_before_duplicates
    from lines
    left join non_product_codes
        on lines.stock_code = non_product_codes.stock_code
),

-- Exact copies: only among the lines no earlier rule rejects, and only with an invoice id
-- (without one, two identical lines may be two purchases). A hash of each such line finds the
-- few that may repeat (an aggregate over one 64-bit value, not over every column of every
-- line); those are compared value by value, and every copy after the first in the file is a
-- duplicate.
{%- set line_values = ['invoice_id', 'stock_code', 'description', 'quantity', 'invoiced_at', 'unit_price',
                       'given_amount', 'customer_id', 'country'] %}
may_repeat as (
    select {{ row_hash(line_values) }} as line_hash
    from flagged
    where reason_before_duplicates is null and has_invoice_column
    group by 1
    having count(*) > 1
),

later_copies as (
    select record_number
    from (
        select
            record_number,
            row_number() over (
                partition by {{ line_values | join(', ') }} order by record_number
            ) as copy_number
        from flagged
        where reason_before_duplicates is null and has_invoice_column
            and {{ row_hash(line_values) }} in (select line_hash from may_repeat)
    ) as copies
    where copy_number > 1
),

classified as (
    select
        -- Without an invoice id in the file, an order is a customer-day.
        case
            when has_invoice_column then invoice_id
            else customer_id || '/' || cast(cast(invoiced_at as date) as {{ dbt.type_string() }})
        end as invoice_id,
        stock_code,
        description,
        quantity,
        invoiced_at,
        cast(invoiced_at as date) as invoice_date,
        unit_price,
        line_amount as amount,
        customer_id,
        country,
        case
            when later_copies.record_number is not null then 'duplicate'
            else reason_before_duplicates
        end as reject_reason,
        flagged.record_number,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as raw_line
    from flagged
    left join later_copies
        on flagged.record_number = later_copies.record_number
),

malformed as (
    select
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        cast(null as {{ dbt.type_string() }}) as stock_code,
        cast(null as {{ dbt.type_string() }}) as description,
        cast(null as bigint) as quantity,
        cast(null as timestamp) as invoiced_at,
        cast(null as date) as invoice_date,
        cast(null as decimal(18, 4)) as unit_price,
        cast(null as decimal(18, 4)) as amount,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as country,
        'malformed_line' as reject_reason,
        cast(null as bigint) as record_number,
        line_number,
        raw_line
    from {{ ref('stg_retail__malformed_lines') }}
)

select * from classified
union all
select * from malformed
