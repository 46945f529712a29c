{{ config(**per_snapshot_incremental()) }}
-- Scores and tier per customer per snapshot (named segments: int_snapshot_customer_named_segments),
-- from quartile cut points computed here, once per snapshot, and kept on every row
-- (<metric>_p25/_p50/_p75): marts.rfm_cut_points shows the as-of snapshot's. Incremental: only
-- the snapshots whose RFM rows were rebuilt since (built_by_invocation_id tells which RFM build a
-- snapshot comes from).
{%- set metrics = rfm_cut_point_metrics() %}
{%- set features = metrics[:3] %}
with snapshot_rfm as (
    select * from {{ ref('int_snapshot_customer_rfm') }} as rfm_rows
    {# a table from before these columns existed is rebuilt whole #}
    {% if is_incremental() and 'rfm_score_p75' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
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
        {% for metric, score, higher_is_better in features -%}
        {{ quartile_cut_points(metric, prefix=metric ~ '_') }}{% if not loop.last %},{% endif %}
        {% endfor -%}
    from snapshot_rfm
    group by snapshot_date
),

scored as (
    select
        rfm.*,
        {% for metric, score, higher_is_better in features -%}
        cuts.{{ metric }}_p25, cuts.{{ metric }}_p50, cuts.{{ metric }}_p75,
        cast({{ quartile_score('rfm.' ~ metric, 'cuts.' ~ metric ~ '_', higher_is_better) }} as integer) as {{ score }}{% if not loop.last %},{% endif %}
        {% endfor -%}
    from snapshot_rfm as rfm
    join feature_cut_points as cuts
        on rfm.snapshot_date = cuts.snapshot_date
),

summed as (
    select *, cast(r_score + f_score + m_score as integer) as rfm_score from scored
),

tier_cut_points as (
    select snapshot_date, {{ quartile_cut_points('rfm_score', prefix='rfm_score_') }}
    from summed
    group by snapshot_date
),

tiered as (
    select
        summed.*,
        tier_cuts.rfm_score_p25, tier_cuts.rfm_score_p50, tier_cuts.rfm_score_p75,
        cast({{ quartile_score('summed.rfm_score', 'tier_cuts.rfm_score_') }} as integer) as tier_rank,
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
    {% for metric, drives, higher_is_better in metrics -%}
    tiered.{{ metric }}_p25, tiered.{{ metric }}_p50, tiered.{{ metric }}_p75,
    {% endfor -%}
    tiered.built_by_invocation_id
from tiered
