-- The K-Means evidence per k and the k chosen (int_cluster_k_evaluation), published for BI.
select * from {{ ref('int_cluster_k_evaluation') }}
