select id, name, due_days, coalesce(active, true) as active
from staging.qb_term
where not _deleted
order by id
