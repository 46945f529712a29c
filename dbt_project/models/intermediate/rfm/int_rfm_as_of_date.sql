-- The single date RFM is measured from: var as_of_date, or the day after the last valid sale.
{% if var('as_of_date') -%}
select cast({{ quote_text(var('as_of_date')) }} as date) as as_of_date
{%- else -%}
select cast({{ dbt.dateadd('day', 1, 'max(invoice_date)') }} as date) as as_of_date
from {{ ref('int_transactions_cleaned') }}
{%- endif %}
