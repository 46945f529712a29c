-- The quarantine: every line that is not a valid sale, with why.

select
    reject_reason,
    invoice_id,
    stock_code,
    description,
    quantity,
    unit_price,
    amount,
    invoiced_at,
    customer_id,
    country,
    record_number,
    line_number,
    raw_line
from {{ ref('int_transaction_lines_classified') }}
where reject_reason is not null
