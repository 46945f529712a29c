-- Typed raw lines under the canonical names, whatever the file calls its columns (macro
-- raw_transaction_columns). Values that do not parse become null here and are rejected with a
-- reason downstream, never dropped. Columns the file does not have are null.
-- A table, unlike the other staging models: it is the one parse of the file (the load), which
-- the classification, the record count and the grain test read back instead of parsing again.
-- The key's hook runs after the commit: inside the creating transaction rowids are provisional.
{{ config(materialized='table', post_hook={'sql': '{{ number_loaded_records(this) }}', 'transaction': false}) }}
{%- set raw = source('retail', 'transaction_lines') %}
{%- set columns = raw_transaction_columns(raw) %}

with source as (
    select * from {{ raw }}
)

select
    nullif(trim({{ raw_column_text(columns.invoice_id) }}), '') as invoice_id,
    upper(nullif(trim({{ raw_column_text(columns.stock_code) }}), '')) as stock_code,
    trim({{ raw_column_text(columns.description) }}) as description,
    {{ parse_whole_number(raw_column_text(columns.quantity), 'bigint') }} as quantity,
    {{ raw_invoice_timestamp(columns.invoice_date) }} as invoiced_at,
    {{ parse_number(raw_column_text(columns.unit_price), 'decimal(18, 4)') }} as unit_price,
    {{ parse_number(raw_column_text(columns.amount), 'decimal(18, 4)') }} as given_amount,
    {{ normalize_customer_id(raw_column_text(columns.customer_id)) }} as customer_id,
    nullif(trim({{ raw_column_text(columns.country) }}), '') as country,
    -- Numbers too large for their column (a quantity of 1e20, a price of 1e308).
    {{ number_out_of_range(raw_column_text(columns.quantity), parse_whole_number(raw_column_text(columns.quantity), 'bigint'), whole=true) }} as quantity_out_of_range,
    {{ number_out_of_range(raw_column_text(columns.unit_price), parse_number(raw_column_text(columns.unit_price), 'decimal(18, 4)')) }} as unit_price_out_of_range,
    {{ number_out_of_range(raw_column_text(columns.amount), parse_number(raw_column_text(columns.amount), 'decimal(18, 4)')) }} as amount_out_of_range,
    -- Tells a date that does not parse from a missing one.
    nullif(trim({{ raw_column_text(columns.invoice_date) }}), '') is not null as has_invoice_date,
    -- Which optional columns the file has: they decide how an order and the amount are made.
    {{ columns.invoice_id is not none }} as has_invoice_column,
    {{ columns.amount is not none }} as has_amount_column,
    -- Line breaks inside the values (a quoted value spanning lines), for the record count of
    -- test rows_add_up_to_file_records: counted here, in the one parse of the file.
    {{ line_breaks_in_values(raw) }} as line_breaks,
    -- The line key: which record of the file this is (macro loaded_record_number).
    {{ loaded_record_number() }} as record_number
from source
