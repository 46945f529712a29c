-- Who is in each segment: per lens (cluster, tier, named_segment), segment, attribute and value,
-- the share of the segment's customers with the value against the share among all customers,
-- and their ratio (over_representation_index); for numeric attributes also the segment's mean,
-- median and quartiles. Long, for BI to pivot. Aggregates only, with a minimum group size
-- (var attribute_min_group_size): a cell of fewer customers (but not zero) has its counts,
-- shares and index suppressed, and a segment smaller than that has all of them suppressed.
-- Complementary suppression then stops a suppressed cell from being recovered by subtraction
-- (see complementary_suppression below and docs/customer-attributes.md, Privacy).
{%- set min_group = var('attribute_min_group_size') | int %}

with members as (
    select customer_id, 'cluster' as lens, segment_name as segment, cluster_id as segment_order
    from {{ ref('customer_segments') }}
    union all
    select customer_id, 'tier' as lens, tier as segment, 5 - tier_rank as segment_order
    from {{ ref('customer_segments') }}
    union all
    select customer_segments.customer_id, 'named_segment' as lens, customer_segments.named_segment as segment,
        named_segments.segment_order
    from {{ ref('customer_segments') }} as customer_segments
    join {{ ref('rfm_named_segments') }} as named_segments
        on customer_segments.named_segment = named_segments.named_segment
),

attributes as (
    select * from {{ ref('int_customer_attributes') }}
),

segments as (
    select lens, segment, min(segment_order) as segment_order, count(*) as segment_customers
    from members
    group by lens, segment
),

overall_values as (
    select
        attribute_name,
        attribute_type,
        attribute_value,
        min(value_order) as value_order,
        count(*) as overall_customers,
        count(*) / sum(count(*)) over (partition by attribute_name) as share_overall
    from attributes
    group by attribute_name, attribute_type, attribute_value
),

cells as (
    select members.lens, members.segment, attributes.attribute_name, attributes.attribute_value, count(*) as value_customers
    from members
    join attributes
        on members.customer_id = attributes.customer_id
    group by members.lens, members.segment, attributes.attribute_name, attributes.attribute_value
),

numeric_statistics as (
    select
        members.lens,
        members.segment,
        attributes.attribute_name,
        count(attributes.value_number) as customers_with_value,
        avg(attributes.value_number) as mean_value,
        percentile_cont(0.25) within group (order by attributes.value_number) as p25_value,
        percentile_cont(0.5) within group (order by attributes.value_number) as median_value,
        percentile_cont(0.75) within group (order by attributes.value_number) as p75_value
    from members
    join attributes
        on members.customer_id = attributes.customer_id
    where attributes.attribute_type = 'numeric'
    group by members.lens, members.segment, attributes.attribute_name
),

overall_statistics as (
    select
        attribute_name,
        avg(value_number) as overall_mean_value,
        percentile_cont(0.5) within group (order by value_number) as overall_median_value
    from attributes
    where attribute_type = 'numeric'
    group by attribute_name
),

profiled as (
    select
        segments.lens,
        segments.segment,
        segments.segment_order,
        segments.segment_customers,
        overall_values.attribute_name,
        overall_values.attribute_type,
        overall_values.attribute_value,
        overall_values.value_order,
        coalesce(cells.value_customers, 0) as value_customers,
        overall_values.overall_customers,
        overall_values.share_overall,
        segments.segment_customers < {{ min_group }}
            or (coalesce(cells.value_customers, 0) between 1 and {{ min_group - 1 }})
            or overall_values.overall_customers < {{ min_group }} as is_primary_suppressed,
        numeric_statistics.customers_with_value >= {{ min_group }} as statistics_shown,
        numeric_statistics.mean_value,
        numeric_statistics.p25_value,
        numeric_statistics.median_value,
        numeric_statistics.p75_value,
        overall_statistics.overall_mean_value,
        overall_statistics.overall_median_value
    from segments
    cross join overall_values
    left join cells
        on segments.lens = cells.lens
        and segments.segment = cells.segment
        and overall_values.attribute_name = cells.attribute_name
        and overall_values.attribute_value = cells.attribute_value
    left join numeric_statistics
        on segments.lens = numeric_statistics.lens
        and segments.segment = numeric_statistics.segment
        and overall_values.attribute_name = numeric_statistics.attribute_name
    left join overall_statistics
        on overall_values.attribute_name = overall_statistics.attribute_name
),

-- Complementary suppression. A segment's cells of one attribute add up to the segment's size,
-- and a lens's cells of one value to the value's overall count (its share_overall x all
-- customers): where exactly one cell of such a set is suppressed, the others give it away. So
-- the smallest other cell (an empty one too: its 0 would give the other away) is suppressed as
-- well; first within the segment's
-- attribute, then across the lens's segments for the value (when its overall share is shown),
-- repeated, since each pass can leave a new set with one suppressed cell (the singular test
-- attribute_profiles_hide_suppressed_cells checks that none is left).
{%- set passes = 4 %}
suppression_0 as (
    select
        lens, segment, attribute_name, attribute_value, value_customers, overall_customers,
        is_primary_suppressed as is_suppressed
    from profiled
),
{%- for i in range(passes) %}
{%- for set_name, partition, condition in [
    ('segment_' ~ i, 'lens, segment, attribute_name', 'true'),
    ('value_' ~ i, 'lens, attribute_name, attribute_value', 'overall_customers >= ' ~ min_group)] %}
{%- set source = 'suppression_' ~ i if loop.first else 'suppression_segment_' ~ i %}

ranked_{{ set_name }} as (
    select
        *,
        count(case when is_suppressed then 1 end) over (partition by {{ partition }}) as suppressed_cells,
        row_number() over (
            partition by {{ partition }}
            order by is_suppressed, value_customers, segment, attribute_value
        ) as size_rank
    from {{ source }}
),

suppression_{{ set_name }} as (
    select
        lens, segment, attribute_name, attribute_value, value_customers, overall_customers,
        is_suppressed
            or (suppressed_cells = 1 and size_rank = 1 and {{ condition }}) as is_suppressed
    from ranked_{{ set_name }}
),
{%- endfor %}

suppression_{{ i + 1 }} as (
    select * from suppression_value_{{ i }}
),
{%- endfor %}

complementary_suppression as (
    select lens, segment, attribute_name, attribute_value, is_suppressed from suppression_{{ passes }}
),

indexed as (
    select
        profiled.*,
        complementary_suppression.is_suppressed,
        (cast(value_customers as double) / segment_customers) / share_overall as over_representation_index,
        cast(value_customers as double) / segment_customers - share_overall as share_difference,
        -- how many standard errors the segment's share lies above the overall one (normal
        -- approximation to the binomial): keeps chance differences of small segments out
        (cast(value_customers as double) / segment_customers - share_overall)
            / nullif(sqrt(share_overall * (1 - share_overall) / segment_customers), 0) as z_score
    from profiled
    join complementary_suppression
        on profiled.lens = complementary_suppression.lens
        and profiled.segment = complementary_suppression.segment
        and profiled.attribute_name = complementary_suppression.attribute_name
        and profiled.attribute_value = complementary_suppression.attribute_value
),

-- per segment the attributes whose best value is most over-represented (by how many points of
-- share it gains), one value per attribute, if its index is at least var attribute_min_index and
-- the difference is not chance (var attribute_min_z_score); '(missing)' and '(other)' never distinguish
distinguishing as (
    select
        lens, segment, attribute_name, attribute_value,
        row_number() over (partition by lens, segment order by share_difference desc, attribute_name asc) as distinguishing_rank
    from (
        select
            *,
            row_number() over (partition by lens, segment, attribute_name order by share_difference desc, attribute_value asc) as value_rank
        from indexed
        where not is_suppressed
            and attribute_value not in ('(missing)', '(other)')
            and over_representation_index >= {{ var('attribute_min_index') }}
            and z_score >= {{ var('attribute_min_z_score') }}
    ) as best_values
    where value_rank = 1
)

select
    indexed.lens,
    indexed.segment,
    cast(indexed.segment_order as integer) as segment_order,
    indexed.attribute_name,
    indexed.attribute_type,
    indexed.attribute_value,
    cast(indexed.value_order as integer) as value_order,
    indexed.is_suppressed,
    cast(case when indexed.segment_customers >= {{ min_group }} then indexed.segment_customers end as bigint) as segment_customers,
    cast(case when not indexed.is_suppressed then indexed.value_customers end as bigint) as value_customers,
    cast(case when not indexed.is_suppressed then indexed.value_customers / indexed.segment_customers end as double) as share_in_segment,
    cast(case when indexed.overall_customers >= {{ min_group }} then indexed.share_overall end as double) as share_overall,
    cast(case when not indexed.is_suppressed then indexed.over_representation_index end as double) as over_representation_index,
    cast(case when distinguishing.distinguishing_rank <= {{ var('attribute_highlights') | int }}
        then distinguishing.distinguishing_rank end as integer) as distinguishing_rank,
    cast(case when indexed.statistics_shown and indexed.segment_customers >= {{ min_group }} then indexed.mean_value end as double) as mean_value,
    cast(case when indexed.statistics_shown and indexed.segment_customers >= {{ min_group }} then indexed.p25_value end as double) as p25_value,
    cast(case when indexed.statistics_shown and indexed.segment_customers >= {{ min_group }} then indexed.median_value end as double) as median_value,
    cast(case when indexed.statistics_shown and indexed.segment_customers >= {{ min_group }} then indexed.p75_value end as double) as p75_value,
    cast(indexed.overall_mean_value as double) as overall_mean_value,
    cast(indexed.overall_median_value as double) as overall_median_value
from indexed
left join distinguishing
    on indexed.lens = distinguishing.lens
    and indexed.segment = distinguishing.segment
    and indexed.attribute_name = distinguishing.attribute_name
    and indexed.attribute_value = distinguishing.attribute_value
