-- The stored K-Means models (int_cluster_model_versions), published for BI.
select * from {{ ref('int_cluster_model_versions') }}
