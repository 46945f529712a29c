{{ config(
    materialized='incremental',
    unique_key='snapshot_date',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    post_hook="{{ delete_stale_snapshots(this, ref('int_snapshot_dates')) }}"
) }}
-- Scores and tier per customer per snapshot (named segments: int_snapshot_customer_named_segments), with quartile cut points recomputed
-- per snapshot by the same macros as the current marts (quartile_cut_points, quartile_score,
-- fm_score), so the definitions cannot drift apart. Incremental: only the snapshots whose RFM rows
-- were rebuilt since (built_by_invocation_id tells which RFM build a snapshot comes from).
with snapshot_rfm as (
    select * from {{ ref('int_snapshot_customer_rfm') }} as rfm_rows
    {# a table from before these columns existed is rebuilt whole #}
    {% if is_incremental() and 'built_by_invocation_id' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
    where not exists (
        select 1 from {{ this }} as stored
        where stored.snapshot_date = rfm_rows.snapshot_date
            and stored.built_by_invocation_id = rfm_rows.built_by_invocation_id
    )
    {%- endif %}
),

feature_cut_points as (
    select
        snapshot_date,
        {{ quartile_cut_points('recency_days') | replace(' as p', ' as r_p') }},
        {{ quartile_cut_points('frequency') | replace(' as p', ' as f_p') }},
        {{ quartile_cut_points('monetary') | replace(' as p', ' as m_p') }}
    from snapshot_rfm
    group by snapshot_date
),

scored as (
    select
        rfm.*,
        cast({{ quartile_score('rfm.recency_days', 'r_cuts', higher_is_better=false) }} as integer) as r_score,
        cast({{ quartile_score('rfm.frequency', 'f_cuts') }} as integer) as f_score,
        cast({{ quartile_score('rfm.monetary', 'm_cuts') }} as integer) as m_score
    from snapshot_rfm as rfm
    join (select snapshot_date, r_p25 as p25, r_p50 as p50, r_p75 as p75 from feature_cut_points) as r_cuts
        on rfm.snapshot_date = r_cuts.snapshot_date
    join (select snapshot_date, f_p25 as p25, f_p50 as p50, f_p75 as p75 from feature_cut_points) as f_cuts
        on rfm.snapshot_date = f_cuts.snapshot_date
    join (select snapshot_date, m_p25 as p25, m_p50 as p50, m_p75 as p75 from feature_cut_points) as m_cuts
        on rfm.snapshot_date = m_cuts.snapshot_date
),

summed as (
    select *, cast(r_score + f_score + m_score as integer) as rfm_score from scored
),

tier_cut_points as (
    select snapshot_date, {{ quartile_cut_points('rfm_score') }}
    from summed
    group by snapshot_date
),

tiered as (
    select
        summed.*,
        cast({{ quartile_score('summed.rfm_score', 'tier_cuts') }} as integer) as tier_rank,
        {{ fm_score('summed.f_score', 'summed.m_score') }} as fm_score
    from summed
    join tier_cut_points as tier_cuts
        on summed.snapshot_date = tier_cuts.snapshot_date
)

select
    tiered.snapshot_date,
    tiered.customer_id,
    tiered.first_purchase_date,
    tiered.last_purchase_date,
    tiered.recency_days,
    tiered.frequency,
    tiered.monetary,
    tiered.r_score,
    tiered.f_score,
    tiered.m_score,
    tiered.rfm_score,
    tiered.tier_rank,
    {{ tier_name('tiered.tier_rank') }} as tier,
    tiered.fm_score,
    tiered.built_by_invocation_id
from tiered
