{# Score 1..4 from quartile cut points: the columns <cut_points>p25, p50 and p75 (cut_points is
   a prefix such as 'cuts.recency_days_'). Equal values always get equal scores (unlike NTILE,
   which splits ties by row order). higher_is_better=false reverses it (recency). #}
{% macro quartile_score(value, cut_points, higher_is_better=true) -%}
    {%- set scores = [1, 2, 3, 4] if higher_is_better else [4, 3, 2, 1] -%}
    case
        {% for cut in ['p25', 'p50', 'p75'] -%}
        when {{ value }} <= {{ cut_points }}{{ cut }} then {{ scores[loop.index0] }}
        {% endfor -%}
        else {{ scores[3] }}
    end
{%- endmacro %}

{# The 25th, 50th and 75th percentiles of a column (continuous interpolation, standard SQL), as
   <prefix>p25, <prefix>p50 and <prefix>p75. #}
{% macro quartile_cut_points(column, prefix='') -%}
    percentile_cont(0.25) within group (order by {{ column }}) as {{ prefix }}p25,
    percentile_cont(0.50) within group (order by {{ column }}) as {{ prefix }}p50,
    percentile_cont(0.75) within group (order by {{ column }}) as {{ prefix }}p75
{%- endmacro %}

{# The tier name of a tier_rank (4 = best): one place, so snapshots and today's tiers agree. #}
{% macro tier_name(tier_rank) -%}
    case {{ tier_rank }}
        when 4 then 'Platinum'
        when 3 then 'Gold'
        when 2 then 'Silver'
        else 'Bronze'
    end
{%- endmacro %}

{# What is scored from its own quartile cut points: (metric, what it drives, higher is better).
   The features first; rfm_score, their sum, drives the tier. int_snapshot_customer_scores keeps
   each metric's cut points on every row as <metric>_p25, _p50 and _p75. #}
{% macro rfm_cut_point_metrics() -%}
    {{ return([
        ('recency_days', 'r_score', false),
        ('frequency', 'f_score', true),
        ('monetary', 'm_score', true),
        ('rfm_score', 'tier', true),
    ]) }}
{%- endmacro %}
