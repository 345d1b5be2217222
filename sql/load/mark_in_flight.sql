-- The claimed rows join their batch, with the exact payload the batch carries.
update sync.outbox o
set status = 'in_flight', batch_id = %(batch_id)s, bid = u.bid, payload = u.payload,
    last_attempt_run = %(run_id)s, updated_at = now()
from unnest(%(ids)s::bigint[], %(bids)s::text[], %(payloads)s::jsonb[]) as u(id, bid, payload)
where o.id = u.id
