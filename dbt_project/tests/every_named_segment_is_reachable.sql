-- Every named segment must be reachable: some (r, f, m) score combination maps to it.
-- Returns the segments no combination reaches.
with scores as (
    select 1 as score union all select 2 union all select 3 union all select 4
),

reached as (
    select distinct segment_map.named_segment
    from scores as r
    cross join scores as f
    cross join scores as m
    join {{ ref('rfm_named_segment_map') }} as segment_map
        on r.score = segment_map.r_score
        and {{ fm_score('f.score', 'm.score') }} = segment_map.fm_score
)

select segments.named_segment
from {{ ref('rfm_named_segments') }} as segments
left join reached
    on segments.named_segment = reached.named_segment
where reached.named_segment is null
