-- Records QBO created or updated (one statement for the whole batch).
update sync.outbox o
set status = 'sent', qb_id = u.qb_id, sent_at = now(), updated_at = now(),
    last_error_code = null, last_error_message = null, hold_reason = null
from unnest(%(ids)s::bigint[], %(qb_ids)s::text[]) as u(id, qb_id)
where o.id = u.id
returning o.id, o.idempotency_key, o.entity, o.operation, o.source_id
