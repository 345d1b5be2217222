-- Blocking data-quality failures of this run that stopped what depends on them.
select suite, expectation, message
from sync.quality_result
where run_id = %(run_id)s and blocking and outcome <> 'passed' and severity = 'critical'
  and (level = 'table' or escalated)
order by suite, expectation
