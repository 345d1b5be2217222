insert into sync.invoice_xref (sf_opportunity_id, qb_invoice_id, doc_number, request_id, idempotency_key,
                               outbox_id, entity)
values (%(opp)s, %(qb_id)s, %(doc_number)s, %(request_id)s, %(key)s, %(outbox_id)s, %(entity)s)
on conflict (sf_opportunity_id) do nothing
