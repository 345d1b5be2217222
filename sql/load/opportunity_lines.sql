-- Line items of the given opportunities, with their product's name and code.
select
    l.opportunity_id, l.id, l.product2_id,
    coalesce(p.name, l.name) as product_name,
    coalesce(p.product_code, l.product_code) as product_code,
    l.quantity, l.unit_price, l.total_price, l.service_date
from staging.sf_opportunity_line_item l
left join staging.sf_product2 p on p.id = l.product2_id and not p._deleted
where l.opportunity_id = any(%(ids)s)
  and not l._deleted
  and not coalesce(l.is_deleted, false)
order by l.opportunity_id, l.id
