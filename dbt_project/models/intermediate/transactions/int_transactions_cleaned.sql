{{ config(materialized='view') }}
-- Valid sale lines: the input to RFM, the history and CLV (marts.clean_transactions publishes
-- them). A view: one filter over int_transaction_lines_classified, not a second copy of the lines.
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
    country,
    record_number
from {{ ref('int_transaction_lines_classified') }}
where reject_reason is null
