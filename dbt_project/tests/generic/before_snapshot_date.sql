{# No future leakage: a snapshot row may only use dates strictly before its snapshot_date. #}
{% test before_snapshot_date(model, column_name) %}
select * from {{ model }} where {{ column_name }} >= snapshot_date
{% endtest %}
