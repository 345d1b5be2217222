-- A Salesforce record that refused our update: counted per payload; a changed payload starts over.
insert into sync.dead_letter as d (key, target, entity, source_id, payload_hash, error_code, error_message,
                                   error_detail, attempts, status, run_id)
values (%(key)s, 'salesforce', %(entity)s, %(source_id)s, %(payload_hash)s, %(code)s, %(message)s,
        %(detail)s, 1, case when 1 >= %(max_attempts)s then 'exhausted' else 'retrying' end, %(run_id)s)
on conflict (key) do update set
    attempts       = case when d.payload_hash = excluded.payload_hash and d.status <> 'resolved'
                          then d.attempts + 1 else 1 end,
    status         = case when (case when d.payload_hash = excluded.payload_hash and d.status <> 'resolved'
                                     then d.attempts + 1 else 1 end) >= %(max_attempts)s
                          then 'exhausted' else 'retrying' end,
    payload_hash   = excluded.payload_hash,
    error_code     = excluded.error_code,
    error_message  = excluded.error_message,
    error_detail   = excluded.error_detail,
    last_failed_at = now(),
    resolved_at    = null,
    run_id         = excluded.run_id
returning attempts, status
