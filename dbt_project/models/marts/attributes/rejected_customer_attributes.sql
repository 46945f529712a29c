-- Rows of the customer attributes file that are not used, with the reason (quarantine; reasons
-- and wording in seed customer_attribute_reject_reasons): rows judged in
-- int_customer_attribute_rows_checked, and lines the CSV reader could not split
-- (stg_crm__malformed_lines). Names the row (its position in read order, or the file line of a
-- malformed one) and the id only: attribute values and raw lines, personal data, stay unpublished.
with rejected as (
    select read_order, cast(null as bigint) as line_number, customer_id, reject_reason
    from {{ ref('int_customer_attribute_rows_checked') }}
    where reject_reason is not null
    union all
    select
        cast(null as bigint) as read_order,
        line_number,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        'malformed_line' as reject_reason
    from {{ ref('stg_crm__malformed_lines') }}
)

select
    rejected.read_order,
    rejected.line_number,
    rejected.customer_id,
    rejected.reject_reason,
    reasons.description as reason_description
from rejected
left join {{ ref('customer_attribute_reject_reasons') }} as reasons
    on rejected.reject_reason = reasons.reason
