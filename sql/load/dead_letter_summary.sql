-- Rejections written by this run (retrying) and every record given up on (exhausted), by kind.
select target, entity, status, count(*), min(key)
from sync.dead_letter
where ((status = 'retrying' and run_id = %(run_id)s) or status = 'exhausted')
  and (%(target)s::text is null or target = %(target)s)
group by target, entity, status
order by status, target, entity
