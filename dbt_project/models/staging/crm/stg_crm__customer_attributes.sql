-- The customer attributes file (var customers_path, source crm.customer_attributes), one row per
-- file row and attribute column: the id normalised like the transactions' ids, every value as
-- trimmed text (empty = null). Nothing is dropped here: rows without an id or with a duplicated
-- one are judged in int_customer_attribute_rows_checked; lines the CSV reader could not split
-- are in stg_crm__malformed_lines. Without a file: no rows.
{%- set path = customers_file_path() %}
{%- if path %}
{%- set raw = source('crm', 'customer_attributes') %}
{%- set columns = customer_attribute_columns(raw) if execute else {'customer_id': none, 'attributes': []} %}

with source as (
    select * from {{ raw }}
),

file_rows as (
    select
        {{ normalize_customer_id(raw_column_text(columns.customer_id)) }} as __crm_customer_id,
        {{ record_number() }} as __crm_read_order
        {%- for column in columns.attributes %},
        nullif(trim({{ raw_column_text(column) }}), '') as {{ quote_file_column(column.name) }}
        {%- endfor %}
    from source
)

select
    __crm_customer_id as customer_id,
    cast(__crm_read_order as bigint) as read_order,
    cast(attribute_name as {{ dbt.type_string() }}) as attribute_name,
    cast(attribute_value as {{ dbt.type_string() }}) as attribute_value
from file_rows
unpivot include nulls (
    attribute_value for attribute_name in (
        {%- for column in columns.attributes %}{{ quote_file_column(column.name) }}{{ ", " if not loop.last }}{% endfor -%}
    )
)
{%- else %}
-- No customer attributes file: profiles use the transactions' country only.
select
    cast(null as {{ dbt.type_string() }}) as customer_id,
    cast(null as bigint) as read_order,
    cast(null as {{ dbt.type_string() }}) as attribute_name,
    cast(null as {{ dbt.type_string() }}) as attribute_value
where false
{%- endif %}
