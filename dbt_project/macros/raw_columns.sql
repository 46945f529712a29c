{# Finding the canonical columns in whatever file the user brings.

   Canonical names: invoice_id, stock_code, description, quantity, invoice_date, unit_price,
   amount, customer_id, country. A file column is recognised when its name, lower-cased with
   everything but letters and digits removed, is the canonical name or one of its aliases
   (var raw_column_aliases); var raw_columns maps the rest ('customer_id=cust_no,amount=total').
   Required: customer_id, invoice_date, and amount or both quantity and unit_price.
   The CLI preflight (python/rfm_segments/ingest.py) applies the same rules before dbt runs;
   this macro is the guard for people who run dbt themselves. #}

{% macro raw_canonical_columns() -%}
    {{ return(['invoice_id', 'stock_code', 'description', 'quantity', 'invoice_date',
               'unit_price', 'amount', 'customer_id', 'country']) }}
{%- endmacro %}

{% macro raw_file_path() -%}
    {#- The same rule as the source's external_location (models/staging/retail/_retail__sources.yml). -#}
    {{ return(var('raw_path', env_var('SEGMENTS_RAW', var('sample_raw_path')))) }}
{%- endmacro %}

{% macro raw_file_is_parquet() -%}
    {{ return(raw_file_path().lower().endswith('.parquet')) }}
{%- endmacro %}

{# A file column's name as a SQL identifier. Names come from the user's file, so an embedded
   `"` is doubled: a header can never close the quote and add SQL (adapter.quote does not escape).
   Every place that names a file column goes through here. #}
{% macro quote_file_column(name) -%}
    {{ adapter.dispatch('quote_file_column')(name) }}
{%- endmacro %}

{% macro default__quote_file_column(name) -%}
    "{{ name | string | replace('"', '""') }}"
{%- endmacro %}

{# A value from a var or a file as a SQL string literal (`'` doubled). #}
{% macro quote_text(value) -%}
    {{ adapter.dispatch('quote_text')(value) }}
{%- endmacro %}

{% macro default__quote_text(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro normalized_column_name(name) -%}
    {{ return(modules.re.sub('[^a-z0-9]', '', name | lower)) }}
{%- endmacro %}

{# The user's mapping, as a dict canonical -> their column name. #}
{% macro raw_column_mapping() -%}
    {{ return(column_mapping('raw_columns', raw_canonical_columns())) }}
{%- endmacro %}

{# Var `var_name` ('canonical=theirs,...' or a YAML mapping) as a dict, its keys checked against `canonicals` (none: any key). #}
{% macro column_mapping(var_name, canonicals) -%}
    {%- set given = var(var_name, none) -%}
    {%- set mapping = {} -%}
    {%- if given is mapping -%}
        {%- for canonical, theirs in given.items() -%}{%- do mapping.update({canonical | trim: theirs | string | trim}) -%}{%- endfor -%}
    {%- elif given -%}
        {%- for pair in given.split(',') if pair | trim -%}
            {%- if '=' not in pair -%}
                {{ exceptions.raise_compiler_error(var_name ~ ": '" ~ pair | trim ~ "' is not canonical=theirs") }}
            {%- endif -%}
            {%- set parts = pair.split('=', 1) -%}
            {%- do mapping.update({parts[0] | trim: parts[1] | trim}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for canonical in mapping if canonicals is not none and canonical not in canonicals -%}
        {{ exceptions.raise_compiler_error(var_name ~ ": '" ~ canonical ~ "' is not a canonical column (" ~ canonicals | join(', ') ~ ")") }}
    {%- endfor -%}
    {{ return(mapping) }}
{%- endmacro %}

{# The columns of a relation as [{'name', 'type'}...] (type upper-case). #}
{% macro described_columns(relation) -%}
    {%- set found = [] -%}
    {%- for row in run_query('describe select * from ' ~ relation).rows -%}
        {%- do found.append({'name': row[0], 'type': row[1] | upper}) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{# The file column for `canonical`: the one `mapping` names (exact name, else any case; an error
   naming `var_name` when there is none), else the first whose normalised name is the canonical
   name or one of its aliases (var raw_column_aliases); none when nothing matches. #}
{% macro find_file_column(found, canonical, mapping, var_name) -%}
    {%- if canonical in mapping -%}
        {%- set wanted = mapping[canonical] -%}
        {%- set matches = found | selectattr('name', 'equalto', wanted) | list -%}
        {%- if not matches -%}
            {%- for column in found if column.name | lower == wanted | lower -%}{%- do matches.append(column) -%}{%- endfor -%}
        {%- endif -%}
        {%- if not matches -%}
            {{ exceptions.raise_compiler_error(var_name ~ " maps " ~ canonical ~ " to '" ~ wanted ~ "', which is not a column of the file; columns found: " ~ found | map(attribute='name') | join(', ')) }}
        {%- endif -%}
        {{ return(matches[0]) }}
    {%- endif -%}
    {%- set names = [canonical | replace('_', '')] + var('raw_column_aliases', {}).get(canonical, []) -%}
    {%- for column in found if normalized_column_name(column.name) in names -%}
        {{ return(column) }}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}

{# Returns {'found': [{'name', 'type'}...], canonical: {'name', 'type'} or none ...}. Raises one
   clear compiler error when a required column is missing or a mapping names no column. #}
{% macro raw_transaction_columns(relation) -%}
    {%- set resolved = {'found': []} -%}
    {%- for canonical in raw_canonical_columns() -%}{%- do resolved.update({canonical: none}) -%}{%- endfor -%}
    {%- if not execute -%}{{ return(resolved) }}{%- endif -%}

    {%- do resolved.update({'found': described_columns(relation)}) -%}
    {%- set found_names = resolved.found | map(attribute='name') | list -%}
    {%- set mapping = raw_column_mapping() -%}
    {%- for canonical in raw_canonical_columns() -%}
        {%- do resolved.update({canonical: find_file_column(resolved.found, canonical, mapping, 'raw_columns')}) -%}
    {%- endfor -%}

    {%- set missing = [] -%}
    {%- for canonical in ['customer_id', 'invoice_date'] if resolved[canonical] is none -%}{%- do missing.append(canonical) -%}{%- endfor -%}
    {%- if resolved.amount is none and (resolved.quantity is none or resolved.unit_price is none) -%}
        {%- do missing.append('amount (or quantity and unit_price)') -%}
    {%- endif -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error("missing required column " ~ missing | join(', ') ~ " in " ~ raw_file_path() ~ "; columns found: " ~ found_names | join(', ') ~ " (map yours with var raw_columns, e.g. 'customer_id=cust_no')") }}
    {%- endif -%}
    {{ return(resolved) }}
{%- endmacro %}

{# The text of a resolved file column (every value as text, as a CSV gives it), or a typed null. #}
{% macro raw_column_text(column) -%}
    {%- if column is none -%} cast(null as {{ dbt.type_string() }})
    {%- else -%} cast({{ quote_file_column(column.name) }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{# The invoice timestamp: typed dates pass through; text is ISO unless var raw_date_format. #}
{% macro raw_invoice_timestamp(column) -%}
    {%- if column is none -%} cast(null as timestamp)
    {%- elif column.type.startswith('TIMESTAMP WITH TIME ZONE') -%}
        {{ timestamp_in_utc(quote_file_column(column.name)) }}
    {%- elif column.type.startswith('DATE') or column.type.startswith('TIMESTAMP') -%}
        cast({{ quote_file_column(column.name) }} as timestamp)
    {%- else -%} {{ parse_timestamp(raw_column_text(column), var('raw_date_format', none)) }}
    {%- endif -%}
{%- endmacro %}
