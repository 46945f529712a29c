-- One row per row of the customer attributes file with why it is not used, if it is not: every
-- reason that applies is listed below, and the one with the lowest precedence in seed
-- customer_attribute_reject_reasons (the one list of reasons and their wording) wins. Null = used.
-- Every copy of a duplicated id is rejected: which one is right is unknown.
with file_rows as (
    select distinct customer_id, read_order
    from {{ ref('stg_crm__customer_attributes') }}
),

copies as (
    select customer_id, count(*) as copies
    from file_rows
    where customer_id is not null
    group by customer_id
),

reasons_found as (
    select read_order, 'missing_customer_id' as reason
    from file_rows
    where customer_id is null
    union all
    select file_rows.read_order, 'duplicate_customer_id' as reason
    from file_rows
    join copies
        on file_rows.customer_id = copies.customer_id
    where copies.copies > 1
    union all
    select file_rows.read_order, 'unknown_customer_id' as reason
    from file_rows
    left join {{ ref('int_customer_rfm') }} as customers
        on file_rows.customer_id = customers.customer_id
    where file_rows.customer_id is not null and customers.customer_id is null
),

first_reason as (
    select read_order, reason
    from (
        select
            reasons_found.read_order,
            reasons_found.reason,
            row_number() over (partition by reasons_found.read_order order by reasons.precedence) as reason_rank
        from reasons_found
        join {{ ref('customer_attribute_reject_reasons') }} as reasons
            on reasons_found.reason = reasons.reason
    ) as ranked
    where reason_rank = 1
)

select
    file_rows.read_order,
    file_rows.customer_id,
    first_reason.reason as reject_reason
from file_rows
left join first_reason
    on file_rows.read_order = first_reason.read_order
