select parent_id, line_no, item_id, qty, unit_price, amount
from staging.qb_invoice_line
where parent_id = any(%(ids)s)
  and coalesce(detail_type, 'SalesItemLineDetail') = 'SalesItemLineDetail'
order by parent_id, line_no
