-- Feature drift per snapshot (the feature_drift records of int_model_history), with SQL types.
select
    cast(snapshot_date as date) as snapshot_date,
    cast(model_version as integer) as model_version,
    feature,
    cast(bins as integer) as bins,
    cast(customers as integer) as customers,
    psi,
    psi_band,
    kl_divergence,
    js_distance
from {{ ref('int_model_history') }}
where record = 'feature_drift'
