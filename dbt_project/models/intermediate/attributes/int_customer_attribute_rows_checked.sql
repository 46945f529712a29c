-- One row per row of the customer attributes file with why it is not used, if it is not:
-- missing_customer_id, duplicate_customer_id (every copy: which one is right is unknown) or
-- unknown_customer_id (no valid sale; reported, not fatal). Null = used.
with file_rows as (
    select distinct customer_id, read_order
    from {{ ref('stg_crm__customer_attributes') }}
),

copies as (
    select customer_id, count(*) as copies
    from file_rows
    where customer_id is not null
    group by customer_id
)

select
    file_rows.read_order,
    file_rows.customer_id,
    case
        when file_rows.customer_id is null then 'missing_customer_id'
        when copies.copies > 1 then 'duplicate_customer_id'
        when customers.customer_id is null then 'unknown_customer_id'
    end as reject_reason
from file_rows
left join copies
    on file_rows.customer_id = copies.customer_id
left join {{ ref('int_customer_rfm') }} as customers
    on file_rows.customer_id = customers.customer_id
