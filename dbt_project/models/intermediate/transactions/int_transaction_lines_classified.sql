-- Every input line exactly once (parsed lines and the lines the CSV reader could not split),
-- with the first reject reason that applies (in the precedence of seed reject_reasons) or null
-- when the line is a valid sale.
with lines as (
    select * from {{ ref('stg_retail__transaction_lines') }}
),

non_product_codes as (
    select upper(stock_code) as stock_code from {{ ref('non_product_stock_codes') }}
),

-- Exact copies of a line counted by one hash aggregate (a window numbering the copies
-- sorted every line: 20% slower at 10M lines); the copies are expanded again below.
distinct_lines as (
    select
        invoice_id, stock_code, description, quantity, invoiced_at, unit_price, given_amount,
        customer_id, country, has_invoice_date, has_invoice_column, has_amount_column,
        coalesce(quantity_out_of_range, false) as quantity_out_of_range,
        coalesce(unit_price_out_of_range, false) as unit_price_out_of_range,
        coalesce(amount_out_of_range, false) as amount_out_of_range,
        count(*) as copies
    from lines
    group by all
),

flagged as (
    select
        distinct_lines.*,
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
            when has_amount_column and amount_out_of_range then 'number_out_of_range'
            when not has_amount_column and (quantity_out_of_range or unit_price_out_of_range) then 'number_out_of_range'
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
    from distinct_lines
    left join non_product_codes
        on distinct_lines.stock_code = non_product_codes.stock_code
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
        -- The first copy keeps its reason (none when valid); the other copies are duplicates
        -- unless an earlier rule rejects them. Only with an invoice id: without one, two
        -- identical lines may be two purchases.
        case
            when copy_number = 1 or not has_invoice_column then reason_before_duplicates
            else coalesce(reason_before_duplicates, 'duplicate')
        end as reject_reason,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as raw_line
    from flagged
    {{ numbered_copies('copies', 'copy_number') }}
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
        line_number,
        raw_line
    from {{ ref('stg_retail__malformed_lines') }}
)

select * from classified
union all
select * from malformed
