-- The attribute dimensions of the stored K-Means models (int_cluster_model_attribute_centres),
-- published for BI beside clustering.cluster_model_versions.
select * from {{ ref('int_cluster_model_attribute_centres') }}
