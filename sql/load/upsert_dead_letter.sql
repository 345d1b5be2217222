insert into sync.dead_letter as d (key, target, entity, source_id, outbox_id, payload_hash, error_code,
                                   error_message, error_detail, attempts, status, run_id)
values (%(key)s, %(target)s, %(entity)s, %(source_id)s, %(outbox_id)s, %(payload_hash)s, %(code)s,
        %(message)s, %(detail)s, %(attempts)s, %(status)s, %(run_id)s)
on conflict (key) do update set
    payload_hash   = excluded.payload_hash,
    error_code     = excluded.error_code,
    error_message  = excluded.error_message,
    error_detail   = excluded.error_detail,
    attempts       = excluded.attempts,
    status         = excluded.status,
    last_failed_at = now(),
    resolved_at    = null,
    run_id         = excluded.run_id
returning (xmax = 0) as inserted
