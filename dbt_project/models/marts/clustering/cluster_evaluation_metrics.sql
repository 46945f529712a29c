-- How to read each figure of the clustering evidence (seed k_evaluation_metrics), published so that
-- BI and the report read it with the build it belongs to. A metric's reading bands (silhouette) are
-- numbers in the seed; the sentence that states them is written from those numbers, never typed.
{%- set strong = "cast(strong_from as " ~ dbt.type_string() ~ ")" %}
{%- set reasonable = "cast(reasonable_from as " ~ dbt.type_string() ~ ")" %}
select
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(better as {{ dbt.type_string() }}) as better,
    cast(case
        when strong_from is null then meaning
        else {{ dbt.concat(["meaning", "' Above '", strong, "' strong, '", reasonable, "'-'", strong,
                            "' reasonable, below '", reasonable, "' weak structure.'"]) }}
    end as {{ dbt.type_string() }}) as meaning,
    cast(strong_from as double) as strong_from,
    cast(reasonable_from as double) as reasonable_from
from {{ ref('k_evaluation_metrics') }}
