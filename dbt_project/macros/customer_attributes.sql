{# The optional customer attributes file (a CRM export): one row per customer id, any number of
   attribute columns (docs/customer-attributes.md). var customers_path (null = none) names it;
   the id column is found like the transactions' (var raw_column_aliases, or var
   customers_columns 'customer_id=crm_no'); var customer_attributes lists the columns to use
   (null = every other column). Read through source('crm', 'customer_attributes')
   (models/staging/crm/_crm__sources.yml); the CLI preflight (rfm_segments.ingest.prepare_customers)
   checks the file first and passes its encoding and CSV dialect as customers_* vars. #}

{#- The same rule as the source's external_location. -#}
{% macro customers_file_path() -%}
    {{ return(var('customers_path', none) or none) }}
{%- endmacro %}

{# A list var given as a YAML list or a comma-separated string; [] when null. #}
{% macro list_var(name) -%}
    {%- set given = var(name, none) -%}
    {%- if given is none or given == '' -%}{{ return([]) }}{%- endif -%}
    {%- if given is string -%}
        {{ return(given.split(',') | map('trim') | reject('equalto', '') | list) }}
    {%- endif -%}
    {{ return(given | map('string') | map('trim') | list) }}
{%- endmacro %}

{# {'customer_id': column, 'attributes': [columns]} of the file (columns as {'name', 'type'}).
   One compiler error when the id column is missing, a listed attribute is not in the file, or
   the file has no attribute column. #}
{% macro customer_attribute_columns(relation) -%}
    {%- set found = described_columns(relation) -%}
    {%- set names = found | map(attribute='name') | list -%}
    {%- set id_column = find_file_column(found, 'customer_id', column_mapping('customers_columns', ['customer_id']), 'customers_columns') -%}
    {%- if id_column is none -%}
        {{ exceptions.raise_compiler_error("missing required column customer_id in " ~ customers_file_path() ~ "; columns found: " ~ names | join(', ') ~ " (map yours with var customers_columns, e.g. 'customer_id=crm_no')") }}
    {%- endif -%}
    {%- set wanted = list_var('customer_attributes') -%}
    {%- set attributes = [] -%}
    {%- if wanted -%}
        {%- for name in wanted -%}
            {%- set matches = found | selectattr('name', 'equalto', name) | list -%}
            {%- if not matches -%}
                {%- for column in found if column.name | lower == name | lower -%}{%- do matches.append(column) -%}{%- endfor -%}
            {%- endif -%}
            {%- if not matches or matches[0].name == id_column.name -%}
                {{ exceptions.raise_compiler_error("customer_attributes lists '" ~ name ~ "', which is not an attribute column of " ~ customers_file_path() ~ "; columns found: " ~ names | join(', ')) }}
            {%- endif -%}
            {%- do attributes.append(matches[0]) -%}
        {%- endfor -%}
    {%- else -%}
        {%- for column in found if column.name != id_column.name -%}{%- do attributes.append(column) -%}{%- endfor -%}
    {%- endif -%}
    {%- set known = (attributes | map(attribute='name') | map('lower') | list) + ['country'] -%}
    {%- for name in attribute_type_overrides() if name | lower not in known -%}
        {{ exceptions.raise_compiler_error("attribute_types names '" ~ name ~ "', which is not an attribute used from " ~ customers_file_path() ~ "; attributes: " ~ known | join(', ')) }}
    {%- endfor -%}
    {%- if not attributes -%}
        {{ exceptions.raise_compiler_error("no attribute columns in " ~ customers_file_path() ~ " besides the customer id " ~ id_column.name) }}
    {%- endif -%}
    {{ return({'customer_id': id_column, 'attributes': attributes}) }}
{%- endmacro %}

{# The label of a numeric bin cut point: whole numbers without decimals, others to 2 places. #}
{% macro attribute_number_label(expr) -%}
    case when {{ expr }} = round({{ expr }}) then cast(cast({{ expr }} as bigint) as {{ dbt.type_string() }})
         else cast(round({{ expr }}, 2) as {{ dbt.type_string() }}) end
{%- endmacro %}

{# var attribute_types: {attribute: numeric|categorical} (or 'zip=categorical,score=numeric'),
   overriding the inferred type; one compiler error for another type. Names are checked against
   the file's columns by customer_attribute_columns. #}
{% macro attribute_type_overrides() -%}
    {%- set overrides = {} -%}
    {%- for name, type in column_mapping('attribute_types', none).items() -%}
        {%- if type | lower not in ('numeric', 'categorical') -%}
            {{ exceptions.raise_compiler_error("attribute_types: '" ~ name ~ "' is given type '" ~ type ~ "'; use numeric or categorical") }}
        {%- endif -%}
        {%- do overrides.update({name: type | lower}) -%}
    {%- endfor -%}
    {{ return(overrides) }}
{%- endmacro %}

{# A text number written with a leading zero ('01234', '007', not '0' or '0.5'): a code whose
   zeros matter, so the attribute is a category. #}
{% macro has_leading_zero(text) -%}
    ({{ text }} like '0%' and substring({{ text }}, 2, 1) between '0' and '9')
{%- endmacro %}
