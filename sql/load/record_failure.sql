-- A rejected record: count the attempt; after max_attempts it is dead and surfaced.
update sync.outbox
set attempts = attempts + 1,
    status = case when attempts + 1 >= %(max_attempts)s then 'dead' else 'failed' end,
    last_error_code = %(code)s, last_error_message = %(message)s, updated_at = now()
where id = %(id)s
returning idempotency_key, entity, source_id, payload_hash, attempts, status
