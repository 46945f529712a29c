-- Rows of the customer attributes file that are not used, with the reason (quarantine). Names
-- the file row (its position in read order) and the id only: the attribute values, personal
-- data, stay in the unpublished staging view.
select
    checked.read_order,
    checked.customer_id,
    checked.reject_reason,
    case checked.reject_reason
        when 'missing_customer_id' then 'The row has no customer id.'
        when 'duplicate_customer_id' then 'The customer id is on more than one row: none of them is used.'
        when 'unknown_customer_id' then 'No valid sale of this customer in the transactions: nothing to profile (not an error).'
    end as reason_description
from {{ ref('int_customer_attribute_rows_checked') }} as checked
where checked.reject_reason is not null
