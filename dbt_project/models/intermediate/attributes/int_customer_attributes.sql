-- Every customer x every attribute (long): the accepted rows of the customer attributes file
-- plus the transactions' country (unless the file has its own `country` column), so profiles
-- work without a file. Per-customer personal data: never published (intermediate schema).
-- Types (docs/customer-attributes.md): an attribute is numeric when every value it has parses as
-- a finite number, none is written with a leading zero (a postcode '01234', a code '007') and it
-- has at least var attribute_numeric_min_distinct distinct values (a code 1-5 is a category);
-- else categorical. var attribute_types overrides the inference per attribute.
-- attribute_value is what profiles count: the category (values held by fewer than var
-- attribute_min_group_size customers in all are pooled as '(other)', so a rare value never
-- reaches a published table), or the numeric value's bin (var attribute_numeric_bins equal-count
-- bins of the whole base; equal values share a bin) labelled e.g. '25-34'; '(missing)' when none.
{%- set min_group = var('attribute_min_group_size') | int %}
{%- set bins = [var('attribute_numeric_bins') | int, 2] | max %}
{%- set type_overrides = attribute_type_overrides() %}
{%- for name in type_overrides if not customers_file_path() and name | lower != 'country' %}
    {{ exceptions.raise_compiler_error("attribute_types names '" ~ name ~ "', but without a customers file the only attribute is country") }}
{%- endfor %}
{%- set number = dbt.safe_cast('attribute_value', 'double') %}

with accepted as (
    select attributes.customer_id, attributes.attribute_name, attributes.attribute_value
    from {{ ref('stg_crm__customer_attributes') }} as attributes
    join {{ ref('int_customer_attribute_rows_checked') }} as checked
        on attributes.read_order = checked.read_order
    where checked.reject_reason is null
),

given_values as (
    select customer_id, attribute_name, attribute_value from accepted
    union all
    select customer_id, 'country' as attribute_name, country as attribute_value
    from {{ ref('int_customer_countries') }}
    where not exists (select 1 from accepted where lower(accepted.attribute_name) = 'country')
),

attribute_types as (
    select
        attribute_name,
        case
            {%- for name, type in type_overrides.items() %}
            when lower(attribute_name) = lower({{ quote_text(name) }}) then {{ quote_text(type) }}
            {%- endfor %}
            when count(attribute_value) > 0
                and count(attribute_value) = count(case when {{ is_finite(number) }} then 1 end)
                and count(case when {{ has_leading_zero('attribute_value') }} then 1 end) = 0
                and count(distinct {{ number }}) >= {{ var('attribute_numeric_min_distinct') | int }}
                then 'numeric'
            else 'categorical'
        end as attribute_type
    from given_values
    group by attribute_name
),

-- every customer has every attribute, missing when the file has no value for them
customer_values as (
    select
        customers.customer_id,
        attribute_types.attribute_name,
        attribute_types.attribute_type,
        given_values.attribute_value as given_value,
        case when attribute_types.attribute_type = 'numeric'
            then {{ dbt.safe_cast('given_values.attribute_value', 'double') }} end as value_number
    from {{ ref('int_customer_rfm') }} as customers
    cross join attribute_types
    left join given_values
        on customers.customer_id = given_values.customer_id
        and attribute_types.attribute_name = given_values.attribute_name
),

-- the cut points between var attribute_numeric_bins equal-count bins (one percentile_disc each)
cut_points as (
    {%- for i in range(1, bins) %}
    select attribute_name, percentile_disc({{ i / bins }}) within group (order by value_number) as cut_point
    from customer_values
    where value_number is not null
    group by attribute_name
    {{ "union" if not loop.last }}
    {%- endfor %}
),

whole_numbers as (
    select attribute_name, bool_and(value_number = round(value_number)) as is_whole
    from customer_values
    where value_number is not null
    group by attribute_name
),

bins as (
    select
        customer_values.customer_id,
        customer_values.attribute_name,
        count(case when cut_points.cut_point <= customer_values.value_number then 1 end) as bin_number,
        max(case when cut_points.cut_point <= customer_values.value_number then cut_points.cut_point end) as lower_cut,
        min(case when cut_points.cut_point > customer_values.value_number then cut_points.cut_point end) as upper_cut
    from customer_values
    join cut_points
        on customer_values.attribute_name = cut_points.attribute_name
    where customer_values.value_number is not null
    group by customer_values.customer_id, customer_values.attribute_name
),

category_sizes as (
    select attribute_name, given_value, count(*) as customers
    from customer_values
    where attribute_type = 'categorical' and given_value is not null
    group by attribute_name, given_value
)

select
    customer_values.customer_id,
    customer_values.attribute_name,
    customer_values.attribute_type,
    customer_values.value_number,
    case
        -- a value that is not a number, in an attribute var attribute_types makes numeric, is missing
        when customer_values.given_value is null
            or (customer_values.attribute_type = 'numeric' and customer_values.value_number is null) then '(missing)'
        when customer_values.attribute_type = 'categorical' and category_sizes.customers < {{ min_group }} then '(other)'
        when customer_values.attribute_type = 'categorical' then customer_values.given_value
        when bins.lower_cut is null then 'under ' || {{ attribute_number_label('bins.upper_cut') }}
        when bins.upper_cut is null then {{ attribute_number_label('bins.lower_cut') }} || '+'
        when whole_numbers.is_whole and bins.upper_cut - 1 = bins.lower_cut then {{ attribute_number_label('bins.lower_cut') }}
        when whole_numbers.is_whole
            then {{ attribute_number_label('bins.lower_cut') }} || '-' || {{ attribute_number_label('bins.upper_cut - 1') }}
        else {{ attribute_number_label('bins.lower_cut') }} || ' to under ' || {{ attribute_number_label('bins.upper_cut') }}
    end as attribute_value,
    -- numeric bins in order (0 = lowest); categories and '(missing)' have none
    cast(bins.bin_number as integer) as value_order
from customer_values
left join bins
    on customer_values.customer_id = bins.customer_id
    and customer_values.attribute_name = bins.attribute_name
left join whole_numbers
    on customer_values.attribute_name = whole_numbers.attribute_name
left join category_sizes
    on customer_values.attribute_name = category_sizes.attribute_name
    and customer_values.given_value = category_sizes.given_value
