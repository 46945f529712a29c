-- A customer's country as of the as-of date: the one on most of their valid lines (the latest
-- wins a tie). customer_rfm and the attribute profiles both read it.
with as_of as (
    select as_of_date from {{ ref('int_rfm_as_of_date') }}
),

sales as (
    select sales.*
    from {{ ref('int_transactions_cleaned') }} as sales
    cross join as_of
    where sales.invoice_date < as_of.as_of_date
)

select customer_id, country
from (
    select
        customer_id,
        country,
        row_number() over (
            partition by customer_id
            order by count(*) desc, max(invoiced_at) desc, country
        ) as country_rank
    from sales
    group by customer_id, country
) as ranked
where country_rank = 1
