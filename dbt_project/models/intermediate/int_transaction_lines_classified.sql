-- Every staged line exactly once, with the first reject reason that applies (in the
-- precedence of seed reject_reasons) or null when the line is a valid sale.
with lines as (
    select * from {{ ref('stg_retail__transaction_lines') }}
),

non_product_codes as (
    select upper(stock_code) as stock_code from {{ ref('non_product_stock_codes') }}
),

flagged as (
    select
        lines.*,
        non_product_codes.stock_code is not null as is_non_product,
        -- Exact copies of a line: the first copy is kept, the others are duplicates.
        row_number() over (
            partition by
                lines.invoice_id, lines.stock_code, lines.description, lines.quantity,
                lines.invoiced_at, lines.unit_price, lines.customer_id, lines.country
            order by lines.invoice_id
        ) as copy_number
    from lines
    left join non_product_codes
        on lines.stock_code = non_product_codes.stock_code
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
    case
        when not has_invoice_date then 'missing_invoice_date'
        when invoiced_at is null then 'unparseable_invoice_date'
        when quantity is null then 'unparseable_quantity'
        when unit_price is null then 'unparseable_unit_price'
        when customer_id is null then 'missing_customer'
        when invoice_id is null then 'missing_invoice'
        when upper(invoice_id) like 'A%' then 'bad_debt_adjustment'
        when upper(invoice_id) like 'C%' then 'cancellation'
        when is_non_product then 'non_product_code'
        when quantity <= 0 then 'non_positive_quantity'
        when unit_price <= 0 then 'non_positive_price'
        when copy_number > 1 then 'duplicate'
    end as reject_reason
from flagged
