-- QBO items for product-to-item mapping. `held`: a data-quality check holds the item back
-- (no name, a name another item shares): the planner maps no product to it, so such a line is
-- treated like one whose product has no item (the flagged fallback item).
select i.id, i.name, i.sku, coalesce(i.active, true) as active,
       exists (select 1 from sync.open_quarantine q
               where q.table_name = 'staging.qb_item' and q.record_id = i.id) as held
from staging.qb_item i
where not i._deleted
order by i.id
