{# Score 1..4 from quartile cut points. Equal values always get equal scores (unlike NTILE,
   which splits ties by row order). higher_is_better=false reverses it (recency). #}
{% macro quartile_score(value, cuts, higher_is_better=true) -%}
    {%- if higher_is_better -%}
    case
        when {{ value }} <= {{ cuts }}.p25 then 1
        when {{ value }} <= {{ cuts }}.p50 then 2
        when {{ value }} <= {{ cuts }}.p75 then 3
        else 4
    end
    {%- else -%}
    case
        when {{ value }} <= {{ cuts }}.p25 then 4
        when {{ value }} <= {{ cuts }}.p50 then 3
        when {{ value }} <= {{ cuts }}.p75 then 2
        else 1
    end
    {%- endif -%}
{%- endmacro %}

{# The 25th, 50th and 75th percentiles of a column (continuous interpolation, standard SQL). #}
{% macro quartile_cut_points(column) -%}
    percentile_cont(0.25) within group (order by {{ column }}) as p25,
    percentile_cont(0.50) within group (order by {{ column }}) as p50,
    percentile_cont(0.75) within group (order by {{ column }}) as p75
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
