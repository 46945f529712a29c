-- How to read each figure of the clustering evidence (seed k_evaluation_metrics), published so that
-- BI and the report read it with the build it belongs to.
select
    cast(metric as varchar) as metric,
    cast(better as varchar) as better,
    cast(meaning as varchar) as meaning
from {{ ref('k_evaluation_metrics') }}
