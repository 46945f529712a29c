-- Per lens and segment, its most distinguishing attributes as one readable line, e.g.
-- "over-represented: age 25-34 (x1.8), country Germany (x2.1)" (segment_attribute_profiles
-- distinguishing_rank); null when no attribute value is over-represented enough.
select
    lens,
    segment,
    'over-represented: ' || {{ dbt.listagg(
        "attribute_name || ' ' || attribute_value || ' (x' || " ~ attribute_number_label('round(over_representation_index, 1)') ~ " || ')'",
        "', '", 'order by distinguishing_rank') }} as distinguishing_attributes
from {{ ref('segment_attribute_profiles') }}
where distinguishing_rank is not null
group by lens, segment
