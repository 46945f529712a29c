"""RFM customer segmentation: the Python side of the dbt + DuckDB pipeline."""
