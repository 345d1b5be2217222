-- Every QBO invoice staging knows, with what payments and credit memos did to it.
-- Money received = payment lines applied to the invoice, except pure credit applications (a
-- Payment with TotalAmt 0 that moves a credit memo onto the invoice is not money).
select
    i.id, i.doc_number, i.customer_id, i.txn_date, i.due_date, i.total_amt, i.balance, i.currency,
    i.exchange_rate, i.private_note, i._deleted,
    coalesce((
        select json_agg(json_build_object('date', p.txn_date, 'amount', pl.amount) order by p.txn_date)
        from staging.qb_payment_line pl
        join staging.qb_payment p on p.id = pl.parent_id
        where pl.linked_txn_type = 'Invoice' and pl.linked_txn_id = i.id
          and not p._deleted and coalesce(p.total_amt, 0) <> 0
    ), '[]'::json) as payments,
    coalesce((
        select sum(c.total_amt)
        from staging.qb_credit_memo c
        where c.invoice_id = i.id and not c._deleted and coalesce(c.total_amt, 0) > 0
    ), 0) as credited
from staging.qb_invoice i
