-- Every staged line exactly once, with the first reject reason that applies (in the
-- precedence of seed reject_reasons) or null when the line is a valid sale.
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
        invoice_id, stock_code, description, quantity, invoiced_at, unit_price,
        customer_id, country, has_invoice_date,
        count(*) as copies
    from lines
    group by
        invoice_id, stock_code, description, quantity, invoiced_at, unit_price,
        customer_id, country, has_invoice_date
),

flagged as (
    select
        distinct_lines.*,
        case
            when not has_invoice_date then 'missing_invoice_date'
            when invoiced_at is null then 'unparseable_invoice_date'
            when quantity is null then 'unparseable_quantity'
            when unit_price is null then 'unparseable_unit_price'
            when customer_id is null then 'missing_customer'
            when invoice_id is null then 'missing_invoice'
            when upper(invoice_id) like 'A%' then 'bad_debt_adjustment'
            when upper(invoice_id) like 'C%' then 'cancellation'
            when non_product_codes.stock_code is not null then 'non_product_code'
            when quantity <= 0 then 'non_positive_quantity'
            when unit_price <= 0 then 'non_positive_price'
        end as reason_before_duplicates
    from distinct_lines
    left join non_product_codes
        on distinct_lines.stock_code = non_product_codes.stock_code
)

select
    invoice_id,
    stock_code,
    description,
    quantity,
    invoiced_at,
    cast(invoiced_at as date) as invoice_date,
    unit_price,
    cast(quantity * unit_price as decimal(18, 4)) as amount,
    customer_id,
    country,
    -- The first copy keeps its reason (none when valid); the other copies are duplicates
    -- unless an earlier rule already rejects them.
    case
        when copy_number = 1 then reason_before_duplicates
        else coalesce(reason_before_duplicates, 'duplicate')
    end as reject_reason
from flagged
{{ numbered_copies('copies', 'copy_number') }}
