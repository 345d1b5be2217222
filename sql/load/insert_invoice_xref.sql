insert into sync.invoice_xref (sf_opportunity_id, qb_invoice_id, doc_number, request_id, idempotency_key,
                               outbox_id, entity)
select u.opp, u.qb_id, u.entity ->> 'DocNumber', %(request_id)s, u.key, u.outbox_id, u.entity
from unnest(%(opps)s::text[], %(qb_ids)s::text[], %(keys)s::text[], %(outbox_ids)s::bigint[], %(entities)s::jsonb[])
     as u(opp, qb_id, key, outbox_id, entity)
on conflict (sf_opportunity_id) do nothing
