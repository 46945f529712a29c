{# Fails when the model has fewer than `minimum` rows, so that a truncated or empty extract
   fails the build instead of replacing what BI shows (nothing is published after a failure). #}
{% test has_at_least_rows(model, minimum) %}
select count(*) as row_count
from {{ model }}
having count(*) < {{ minimum }}
{% endtest %}
