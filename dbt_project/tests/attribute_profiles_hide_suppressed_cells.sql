-- Complementary suppression holds in marts.segment_attribute_profiles: no segment's attribute,
-- and no lens's value with a shown overall share, has exactly one suppressed cell among others
-- (the shown cells, even empty ones, would give the suppressed one away by subtraction).
-- Returns the sets that would.
with cells as (
    select * from {{ ref('segment_attribute_profiles') }}
),

sets as (
    select 'segment' as set_kind, lens, segment as set_key, attribute_name,
        count(case when is_suppressed then 1 end) as suppressed_cells,
        count(*) as cells
    from cells
    group by lens, segment, attribute_name
    union all
    select 'value' as set_kind, lens, attribute_value as set_key, attribute_name,
        count(case when is_suppressed then 1 end) as suppressed_cells,
        count(*) as cells
    from cells
    where share_overall is not null
    group by lens, attribute_name, attribute_value
)

select * from sets
where suppressed_cells = 1 and cells > 1
