-- How to read each figure of the clustering evidence (seed k_evaluation_metrics), published so that
-- BI and the report read it with the build it belongs to.
select
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(better as {{ dbt.type_string() }}) as better,
    cast(meaning as {{ dbt.type_string() }}) as meaning
from {{ ref('k_evaluation_metrics') }}
