-- Quartile cut points of recency, frequency and monetary over all customers.
select 'recency_days' as metric, {{ quartile_cut_points('recency_days') }} from {{ ref('customer_rfm') }}
union all
select 'frequency' as metric, {{ quartile_cut_points('frequency') }} from {{ ref('customer_rfm') }}
union all
select 'monetary' as metric, {{ quartile_cut_points('monetary') }} from {{ ref('customer_rfm') }}
