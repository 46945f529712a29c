-- Valid sale lines: the input to RFM.

select
    invoice_id,
    stock_code,
    description,
    quantity,
    unit_price,
    amount,
    invoiced_at,
    invoice_date,
    customer_id,
    country
from {{ ref('int_transaction_lines_classified') }}
where reject_reason is null
