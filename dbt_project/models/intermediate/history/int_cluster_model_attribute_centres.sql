-- The attribute dimensions of the stored models (the model_attribute_centre records of
-- int_model_history, fitted in Python), with SQL types: how a customer's attribute value becomes
-- the feature (fill, centre, scale, factor) and each cluster's centroid in it. Empty unless var
-- cluster_on_attributes is on. Scored in SQL by int_snapshot_customer_clusters; published as
-- clustering.cluster_model_attribute_centres.
select
    cast(model_version as integer) as model_version,
    cast(cluster_id as integer) as cluster_id,
    cast(feature_column as {{ dbt.type_string() }}) as feature_column,
    cast(attribute_name as {{ dbt.type_string() }}) as attribute_name,
    cast(attribute_category as {{ dbt.type_string() }}) as attribute_category,
    cast(attribute_fill_value as double) as attribute_fill_value,
    cast(attribute_centre as double) as attribute_centre,
    cast(attribute_scale as double) as attribute_scale,
    cast(attribute_factor as double) as attribute_factor,
    cast(attribute_centroid as double) as attribute_centroid
from {{ ref('int_model_history') }}
where record = 'model_attribute_centre'
