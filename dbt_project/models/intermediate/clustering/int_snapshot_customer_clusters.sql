-- The cluster of each customer at each snapshot under the model serving then (the latest version
-- of int_cluster_model_versions trained on or before the snapshot): nearest centroid in
-- that model's scaled space, computed here from its stored parameters: the behaviour features
-- (int_cluster_model_versions) and, with var cluster_on_attributes, the attribute dimensions
-- (int_cluster_model_attribute_centres; each customer's attributes of today, which have no
-- history). Snapshots before the first model have no cluster.
with scores as (
    select snapshot_date, customer_id, recency_days, frequency, monetary
    from {{ ref('int_snapshot_customer_scores') }}
),

models as (
    select
        model_version,
        cast(trained_as_of as date) as trained_as_of,
        cluster_id,
        segment_name,
        segment_archetype,
        shares_strategy_with,
        recency_days_log_mean, recency_days_log_scale, recency_days_centroid,
        frequency_log_mean, frequency_log_scale, frequency_centroid,
        monetary_log_mean, monetary_log_scale, monetary_centroid
    from {{ ref('int_cluster_model_versions') }}
),

serving as (
    select snapshots.snapshot_date, max(versions.model_version) as model_version
    from {{ ref('int_snapshot_dates') }} as snapshots
    join (select distinct model_version, trained_as_of from models) as versions
        on versions.trained_as_of <= snapshots.snapshot_date
    group by snapshots.snapshot_date
),

-- The attribute dimensions' share of the squared distance: each customer's value encoded with
-- the numbers the model stored (rfm_segments.clustering.AttributeDimension); no rows when off.
attribute_distances as (
    select
        scores.snapshot_date,
        scores.customer_id,
        centres.model_version,
        centres.cluster_id,
        sum(power(
            (case
                when centres.attribute_category is null
                    then coalesce(attributes.value_number, centres.attribute_fill_value)
                when attributes.attribute_value = centres.attribute_category then cast(1 as double)
                else cast(0 as double)
            end - centres.attribute_centre) / centres.attribute_scale * centres.attribute_factor
            - centres.attribute_centroid, 2)) as squared_distance
    from scores
    join serving
        on scores.snapshot_date = serving.snapshot_date
    join {{ ref('int_cluster_model_attribute_centres') }} as centres
        on serving.model_version = centres.model_version
    left join {{ ref('int_customer_attributes') }} as attributes
        on scores.customer_id = attributes.customer_id
        and centres.attribute_name = attributes.attribute_name
    group by scores.snapshot_date, scores.customer_id, centres.model_version, centres.cluster_id
),

distances as (
    select
        scores.snapshot_date,
        scores.customer_id,
        models.model_version,
        models.cluster_id,
        models.segment_name,
        models.segment_archetype,
        models.shares_strategy_with,
        {% for feature in ['recency_days', 'frequency', 'monetary'] -%}
        power((ln(1 + cast(scores.{{ feature }} as double)) - models.{{ feature }}_log_mean)
            / models.{{ feature }}_log_scale - models.{{ feature }}_centroid, 2)
        {%- if not loop.last %} + {% endif %}
        {% endfor %}
        + coalesce(attribute_distances.squared_distance, 0) as squared_distance
    from scores
    join serving
        on scores.snapshot_date = serving.snapshot_date
    join models
        on serving.model_version = models.model_version
    left join attribute_distances
        on scores.snapshot_date = attribute_distances.snapshot_date
        and scores.customer_id = attribute_distances.customer_id
        and models.model_version = attribute_distances.model_version
        and models.cluster_id = attribute_distances.cluster_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by snapshot_date, customer_id order by squared_distance, cluster_id
        ) as distance_rank
    from distances
)

select
    snapshot_date,
    customer_id,
    cast(model_version as integer) as model_version,
    cast(cluster_id as integer) as cluster_id,
    segment_name,
    segment_archetype,
    shares_strategy_with
from ranked
where distance_rank = 1
