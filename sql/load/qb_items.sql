select id, name, sku, coalesce(active, true) as active
from staging.qb_item
where not _deleted
order by id
