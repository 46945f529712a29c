-- RFM features per customer from the valid sales before the as-of date.
with as_of as (
    select as_of_date from {{ ref('int_rfm_as_of_date') }}
),

sales as (
    select clean_transactions.*
    from {{ ref('clean_transactions') }} as clean_transactions
    cross join as_of
    where clean_transactions.invoice_date < as_of.as_of_date
),

cancellations as (
    select
        lines.customer_id,
        cast(-sum(lines.amount) as decimal(18, 2)) as cancelled_value
    from {{ ref('int_transaction_lines_classified') }} as lines
    cross join as_of
    where lines.reject_reason = 'cancellation'
        and lines.invoice_date < as_of.as_of_date
    group by 1
),

-- A customer's country is the one on most of their lines (latest wins a tie).
countries as (
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
),

per_customer as (
    select
        customer_id,
        min(invoice_date) as first_purchase_date,
        max(invoice_date) as last_purchase_date,
        count(distinct invoice_id) as frequency,
        sum(amount) as monetary_exact
    from sales
    group by 1
)

select
    per_customer.customer_id,
    countries.country,
    per_customer.first_purchase_date,
    per_customer.last_purchase_date,
    cast({{ dbt.datediff('per_customer.last_purchase_date', 'as_of.as_of_date', 'day') }} as integer) as recency_days,
    cast(per_customer.frequency as integer) as frequency,
    cast(per_customer.monetary_exact as decimal(18, 2)) as monetary,
    cast({{ dbt.datediff('per_customer.first_purchase_date', 'as_of.as_of_date', 'day') }} as integer) as tenure_days,
    {{ money_per('per_customer.monetary_exact', 'per_customer.frequency') }} as average_order_value,
    coalesce(cancellations.cancelled_value, 0) as cancelled_value,
    as_of.as_of_date
from per_customer
cross join as_of
left join countries
    on per_customer.customer_id = countries.customer_id
left join cancellations
    on per_customer.customer_id = cancellations.customer_id
