update sync.outbox
set status = 'sent', qb_id = %(qb_id)s, sent_at = now(), updated_at = now(),
    last_error_code = null, last_error_message = null, hold_reason = null
where id = %(id)s
returning idempotency_key, entity, operation, source_id, payload
