-- A file in which every line is rejected stops the build here, before customers, tiers and
-- clusters are rebuilt from nothing: the last good marts stay as they were. The CLI then says
-- so with the counts by reason (intermediate.int_transaction_lines_classified keeps them).
select count(*) as valid_lines
from {{ ref('int_transaction_lines_classified') }}
where reject_reason is null
having count(*) = 0
