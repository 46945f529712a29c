{# Hooks that make plain `dbt build` safe to type (dbt_project.yml on-run-start / on-run-end).

   BI never reads the file dbt writes: it reads a copy that python/rfm_segments/publish.py
   replaces atomically, and only from a full `dbt build` whose every node passed. dbt hooks run
   SQL, so they cannot run that Python; instead they record each invocation that writes the
   warehouse in table main.dbt_invocations, and `make publish` (python -m rfm_segments publish)
   publishes only when the latest one is a full build that passed. The last lines of the dbt
   output say which case this is. `make run` publishes by itself (env SEGMENTS_PUBLISHER=make-run). #}

{% macro raw_source_unique_id() -%}
    {{ return('source.' ~ project_name ~ '.retail.transaction_lines') }}
{%- endmacro %}

{% macro customers_source_unique_id() -%}
    {{ return('source.' ~ project_name ~ '.crm.customer_attributes') }}
{%- endmacro %}

{# Whether this invocation reads an input file (the transactions' unless another source is named):
   a selected node reads the source directly. #}
{% macro raw_input_is_selected(source_unique_id=none) -%}
    {%- for unique_id in selected_resources -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node and (source_unique_id or raw_source_unique_id()) in node.depends_on.nodes -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{# on-run-start: a missing input stops dbt before any seed or model touches the warehouse. #}
{% macro check_raw_input() -%}
    {{ return(adapter.dispatch('check_raw_input')()) }}
{%- endmacro %}

{% macro default__check_raw_input() -%}
    {%- if execute and raw_input_is_selected() -%}
        {%- set path = raw_file_path() -%}
        {#- glob() finds the file from the folder dbt was started from, then from dbt_project/
            (file_search_path, plugin rfm_segments.dbt_paths), as reading it will. -#}
        {%- set found = run_query("select count(*) from glob('" ~ dbt.escape_single_quotes(path) ~ "')") -%}
        {%- if found.columns[0].values()[0] == 0 -%}
            {{ exceptions.raise_compiler_error(
                "input file not found: " ~ path ~ " (a relative path is relative to dbt_project/). "
                ~ "Give yours with --vars '{raw_path: /path/to/transactions.csv}' (or env SEGMENTS_RAW), "
                ~ "or run `make run DATA=/path/to/transactions.csv`; `make setup` (or `make run`) "
                ~ "generates the sample that plain `dbt build` reads.") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{# Commands that change the warehouse; `dbt test`, `show`, `docs` leave no record. #}
{% macro writes_warehouse() -%}
    {{ return(execute and flags.WHICH in ['build', 'run', 'seed', 'snapshot']) }}
{%- endmacro %}

{# What limits this invocation to part of the project ('' = everything), e.g. '--select x+'. #}
{% macro invocation_selection() -%}
    {%- set parts = [] -%}
    {%- for arg in ['select', 'exclude', 'selector', 'resource_types', 'exclude_resource_types'] -%}
        {%- set value = invocation_args_dict.get(arg) -%}
        {%- if value -%}
            {%- do parts.append('--' ~ arg | replace('_', '-') ~ ' ' ~ (value if value is string else value | join(' '))) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if invocation_args_dict.get('empty') -%}{%- do parts.append('--empty') -%}{%- endif -%}
    {{ return(parts | join(' ')) }}
{%- endmacro %}

{% macro record_dbt_invocation_start() -%}
    {{ adapter.dispatch('record_dbt_invocation_start')() }}
{%- endmacro %}

{% macro default__record_dbt_invocation_start() -%}
    {%- if writes_warehouse() -%}
        create schema if not exists main;
        create table if not exists main.dbt_invocations (
            invocation_id varchar primary key,
            command varchar not null,
            selection varchar not null,
            started_at timestamp not null,
            finished_at timestamp,
            nodes integer,
            not_passed integer
        );
        insert into main.dbt_invocations (invocation_id, command, selection, started_at)
        values ('{{ invocation_id }}', '{{ flags.WHICH }}', '{{ dbt.escape_single_quotes(invocation_selection()) }}',
                '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}');
    {%- endif -%}
{%- endmacro %}

{% macro record_dbt_invocation_end(results) -%}
    {{ adapter.dispatch('record_dbt_invocation_end')(results) }}
{%- endmacro %}

{% macro default__record_dbt_invocation_end(results) -%}
    {%- if writes_warehouse() -%}
        {%- set not_passed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error', 'skipped']) | list -%}
        {%- set selection = invocation_selection() -%}
        {%- if env_var('SEGMENTS_PUBLISHER', '') != 'make-run' -%}
            {%- if not_passed -%}
                {%- set verdict = 'Nothing published for BI: ' ~ not_passed | length ~ ' of ' ~ results | length
                    ~ ' nodes did not pass, so BI keeps the data it has. Fix them, run `dbt build`, then `make publish`.' -%}
            {%- elif flags.WHICH != 'build' or selection -%}
                {%- set verdict = 'Nothing published for BI: this was `dbt ' ~ flags.WHICH ~ (' ' ~ selection if selection else '')
                    ~ '`, and `make publish` publishes only a full `dbt build` whose every node passed. BI keeps the data it has.' -%}
            {%- else -%}
                {%- set verdict = 'Nothing published for BI yet: every node passed. Publish this build with `make publish` '
                    ~ '(or: python -m rfm_segments publish); until then BI reads the last published copy.' -%}
            {%- endif -%}
            {{ log(verdict, info=true) }}
        {%- endif -%}
        update main.dbt_invocations
        set finished_at = '{{ modules.datetime.datetime.now(modules.pytz.utc).strftime("%Y-%m-%d %H:%M:%S") }}', nodes = {{ results | length }}, not_passed = {{ not_passed | length }}
        where invocation_id = '{{ invocation_id }}';
    {%- endif -%}
{%- endmacro %}

{# Creates the source relation for engines that read the file through a table (Spark); on
   DuckDB the source is read_csv(...) itself (models/staging/_sources.yml). #}
{% macro create_raw_source() -%}
    {{ return(adapter.dispatch('create_raw_source')()) }}
{%- endmacro %}

{% macro default__create_raw_source() -%}{%- endmacro %}
