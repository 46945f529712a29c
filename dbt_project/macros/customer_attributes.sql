{# The optional customer attributes file (a CRM export): one row per customer id, any number of
   attribute columns (docs/customer-attributes.md). var customers_path (null = none) names it;
   the id column is found like the transactions' (var raw_column_aliases, or var
   customers_columns 'customer_id=crm_no'); var customer_attributes lists the columns to use
   (null = every other column). The CLI preflight (rfm_segments.ingest.prepare_customers) checks
   the file first and passes its encoding and CSV dialect as customers_* vars. #}

{% macro customers_file_path() -%}
    {{ return(var('customers_path', none) or none) }}
{%- endmacro %}

{# The file as a DuckDB table function: every CSV value as text; strict, so a line the reader
   cannot split fails the build (the CLI preflight names such lines first). Relative paths are
   relative to dbt_project/ (plugin rfm_segments.dbt_paths). #}
{% macro customers_file_reader() -%}
    {{ adapter.dispatch('customers_file_reader')() }}
{%- endmacro %}

{% macro default__customers_file_reader() -%}
    {%- set path = customers_file_path() -%}
    {%- if path.lower().endswith('.parquet') -%}
        read_parquet({{ quote_text(path) }})
    {%- else -%}
        read_csv({{ quote_text(path) }}, header = true, all_varchar = true,
            encoding = {{ quote_text(var('customers_encoding', 'utf-8')) }},
            max_line_size = {{ var('customers_csv_max_line_size', 2000000) | int }},
            quote = {{ quote_text(var('customers_csv_quote', '"')) }}
            {%- if var('customers_csv_delimiter', none) %}, delim = {{ quote_text(var('customers_csv_delimiter')) }}{% endif %}
            {%- if var('customers_csv_escape', none) %}, escape = {{ quote_text(var('customers_csv_escape')) }}{% endif %})
    {%- endif -%}
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

{# The order of the file's rows (read_order): DuckDB reads a file in order. #}
{% macro file_row_number() -%}
    {{ adapter.dispatch('file_row_number')() }}
{%- endmacro %}

{% macro default__file_row_number() -%}
    row_number() over ()
{%- endmacro %}
