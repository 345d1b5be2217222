-- Live QBO invoices that live payments are applied to: the amount applied against the total.
-- QBO never lets payments apply more than an invoice's total; if staging says they do, the
-- two extracts disagree and the invoice's paid status and aging cannot be trusted.
-- One row per invoice; `over_applied` = applied - total_amt (must not be positive).
select i.id                      as invoice_id,
       i.doc_number,
       i.total_amt,
       a.application_lines,
       a.applied,
       a.applied - i.total_amt   as over_applied
from staging.qb_invoice i
join (
    select pl.linked_txn_id, count(*) as application_lines, sum(pl.amount) as applied
    from staging.qb_payment_line pl
    join staging.qb_payment p on p.id = pl.parent_id and not p._deleted
    where not pl._deleted and pl.linked_txn_type = 'Invoice'
    group by pl.linked_txn_id
) a on a.linked_txn_id = i.id
where not i._deleted
