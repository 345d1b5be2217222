-- Invoices whose status must not reach Salesforce while data-quality checks hold them: the
-- invoice itself is quarantined, or a payment applied to it is.
select q.record_id as invoice_id
from sync.open_quarantine q
where q.table_name = 'staging.qb_invoice'
union
select pl.linked_txn_id
from sync.open_quarantine q
join staging.qb_payment_line pl on pl.parent_id = q.record_id
where q.table_name = 'staging.qb_payment' and pl.linked_txn_type = 'Invoice'
