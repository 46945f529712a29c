-- Every (r, f, m) score combination a customer can have, put through the same fm_score macro as
-- the model, must meet exactly one row of the segment map. Returns the combinations that do not.
with scores as (
    select 1 as score union all select 2 union all select 3 union all select 4
),

combinations as (
    select r.score as r_score, f.score as f_score, m.score as m_score
    from scores as r
    cross join scores as f
    cross join scores as m
),

matches as (
    select
        combinations.r_score,
        combinations.f_score,
        combinations.m_score,
        count(segment_map.named_segment) as segments
    from combinations
    left join {{ ref('rfm_named_segment_map') }} as segment_map
        on combinations.r_score = segment_map.r_score
        and {{ fm_score('combinations.f_score', 'combinations.m_score') }} = segment_map.fm_score
    group by 1, 2, 3
)

select * from matches where segments <> 1
