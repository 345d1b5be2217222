-- Closed Won opportunities with line items: the opportunity amount against the sum of its lines.
-- Only Closed Won ones are invoiced, so only their totals can put a wrong amount in the books.
-- One row per opportunity; `difference` = amount - line total (the suite allows one cent).
select o.id                      as opportunity_id,
       o.currency_iso_code,
       o.amount,
       l.line_count,
       l.line_total,
       o.amount - l.line_total   as difference
from staging.sf_opportunity o
join (
    select opportunity_id, count(*) as line_count, sum(total_price) as line_total
    from staging.sf_opportunity_line_item
    where not _deleted
    group by opportunity_id
) l on l.opportunity_id = o.id
where not o._deleted and o.is_won
