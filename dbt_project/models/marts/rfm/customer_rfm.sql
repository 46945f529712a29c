-- RFM features per customer as of the as-of date (int_customer_rfm: the latest snapshot of the
-- one RFM query), with today's country (int_customer_countries) and cancelled value.
with rfm as (
    select * from {{ ref('int_customer_rfm') }}
),

as_of as (
    select as_of_date from {{ ref('int_rfm_as_of_date') }}
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

countries as (
    select * from {{ ref('int_customer_countries') }}
)

select
    rfm.customer_id,
    countries.country,
    rfm.first_purchase_date,
    rfm.last_purchase_date,
    rfm.recency_days,
    rfm.frequency,
    rfm.monetary,
    rfm.tenure_days,
    rfm.average_order_value,
    coalesce(cancellations.cancelled_value, 0) as cancelled_value,
    rfm.as_of_date
from rfm
left join countries
    on rfm.customer_id = countries.customer_id
left join cancellations
    on rfm.customer_id = cancellations.customer_id
