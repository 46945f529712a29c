{# Every line has its line number, where the engine's reader numbers lines: DuckDB's CSV reader
   does; Spark reads the file as unnumbered text lines, so there the column is empty by design
   (docs/spark.md) and rows are identified by their raw text. #}
{% test numbered_by_the_reader(model, column_name) %}
{{ adapter.dispatch('lines_without_number')(model, column_name) }}
{% endtest %}
