-- The single date RFM is measured from: var as_of_date, or the day after the last valid sale.
select
    {% if var('as_of_date') -%}
    cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
    cast({{ dbt.dateadd('day', 1, 'max(invoice_date)') }} as date)
    {%- endif %} as as_of_date
from {{ ref('clean_transactions') }}
