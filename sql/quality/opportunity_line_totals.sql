-- Closed Won opportunities with line items: the opportunity amount against the sum of its lines.
-- Only Closed Won ones are invoiced, so only their totals can put a wrong amount in the books.
-- One row per opportunity; `difference` = amount - line total (the suite allows one cent).
-- Joined before grouping: only the Closed Won third of the lines is summed.
select o.id                                as opportunity_id,
       o.currency_iso_code,
       o.amount,
       count(*)                            as line_count,
       sum(l.total_price)                  as line_total,
       o.amount - sum(l.total_price)       as difference
from staging.sf_opportunity o
join staging.sf_opportunity_line_item l on l.opportunity_id = o.id and not l._deleted
where not o._deleted and o.is_won
group by o.id, o.currency_iso_code, o.amount
