-- Retraining checks per snapshot (the retraining_check records of int_model_history), with SQL types.
select
    cast(snapshot_date as date) as snapshot_date,
    cast(model_version as integer) as model_version,
    cast(customers as integer) as customers,
    max_feature_psi,
    assignment_changed_share,
    adjusted_rand_index,
    recommendation,
    reason,
    action
from {{ ref('int_model_history') }}
where record = 'retraining_check'
