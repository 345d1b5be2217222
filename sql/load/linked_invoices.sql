-- Every QBO invoice whose memo may reference an opportunity (deleted and voided ones too:
-- an opportunity whose invoice was voided or deleted on purpose is not invoiced again).
select i.id, i.private_note, i.doc_number, i.customer_id, i.total_amt, i.balance, i.currency,
       i.sync_token, i._deleted
from staging.qb_invoice i
where i.private_note like '%%006%%'
