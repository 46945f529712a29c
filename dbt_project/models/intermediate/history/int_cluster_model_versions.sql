-- The stored models (the model_version records of int_model_history, fitted in Python), with SQL
-- types, and which other clusters of the same version share a cluster's archetype (so its
-- strategy). Scored in SQL by int_snapshot_customer_clusters; published as
-- clustering.cluster_model_versions.
with versions as (
    select * from {{ ref('int_model_history') }}
    where record = 'model_version'
),

shared as (
    select
        versions.model_version,
        versions.cluster_id,
        {{ dbt.listagg('other.segment_name', "'; '", 'order by other.cluster_id') }} as shares_strategy_with
    from versions
    join versions as other
        on other.model_version = versions.model_version
        and other.segment_archetype = versions.segment_archetype
        and other.cluster_id <> versions.cluster_id
    group by versions.model_version, versions.cluster_id
)

select
    cast(versions.model_version as integer) as model_version,
    cast(versions.trained_as_of as date) as trained_as_of,
    cast(versions.valid_until as date) as valid_until,
    cast(versions.training_window_start as date) as training_window_start,
    cast(versions.training_customers as integer) as training_customers,
    versions.fit_reason,
    cast(versions.cluster_id as integer) as cluster_id,
    versions.segment_name,
    versions.segment_archetype,
    shared.shares_strategy_with,
    versions.recency_days_log_mean, versions.recency_days_log_scale, versions.recency_days_centroid,
    versions.frequency_log_mean, versions.frequency_log_scale, versions.frequency_centroid,
    versions.monetary_log_mean, versions.monetary_log_scale, versions.monetary_centroid
from versions
left join shared
    on versions.model_version = shared.model_version
    and versions.cluster_id = shared.cluster_id
