-- The retraining thresholds the build applied (seed retraining_rules), published so that BI and
-- the report draw the bands model_retraining_checks and segment_feature_drift were judged by.
select
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(watch_at as double) as watch_at,
    cast(retrain_at as double) as retrain_at,
    cast(description as {{ dbt.type_string() }}) as description
from {{ ref('retraining_rules') }}
