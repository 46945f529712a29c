{# The outcome counts of a quality summary add up to the rows of the input: no line lost or invented. #}
{% test rows_add_up_to_source(model, source_relation, column) %}
with summary as (select sum({{ column }}) as counted from {{ model }}),
input as (select count(*) as read from {{ source_relation }})
select summary.counted, input.read
from summary cross join input
where summary.counted is distinct from input.read
{% endtest %}
