-- The stored models (int_cluster_model_versions, fitted in Python), with SQL types.
select
    cast(model_version as integer) as model_version,
    cast(trained_as_of as date) as trained_as_of,
    cast(valid_until as date) as valid_until,
    cast(training_window_start as date) as training_window_start,
    cast(training_customers as integer) as training_customers,
    fit_reason,
    cast(cluster_id as integer) as cluster_id,
    segment_name,
    recency_days_log_mean, recency_days_log_scale, recency_days_centroid,
    frequency_log_mean, frequency_log_scale, frequency_centroid,
    monetary_log_mean, monetary_log_scale, monetary_centroid
from {{ ref('int_cluster_model_versions') }}
