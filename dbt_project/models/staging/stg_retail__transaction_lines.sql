-- Typed, renamed raw lines. Values that do not parse become null here and are
-- rejected with a reason downstream, never dropped.
with source as (
    select * from {{ source('retail', 'transaction_lines') }}
)

select
    nullif(trim(InvoiceNo), '') as invoice_id,
    upper(nullif(trim(StockCode), '')) as stock_code,
    trim(Description) as description,
    {{ parse_number('Quantity', 'bigint') }} as quantity,
    {{ parse_timestamp('InvoiceDate') }} as invoiced_at,
    {{ parse_number('UnitPrice', 'decimal(18, 4)') }} as unit_price,
    {{ normalize_customer_id('CustomerID') }} as customer_id,
    nullif(trim(Country), '') as country,
    -- Tells a date that does not parse from a missing one.
    nullif(trim(InvoiceDate), '') is not null as has_invoice_date
from source
