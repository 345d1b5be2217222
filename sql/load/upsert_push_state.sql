insert into sync.sf_push_state (object, record_id, payload_hash, payload, pushed_at, run_id)
values (%(object)s, %(record_id)s, %(payload_hash)s, %(payload)s, now(), %(run_id)s)
on conflict (object, record_id) do update set
    payload_hash = excluded.payload_hash,
    payload      = excluded.payload,
    pushed_at    = excluded.pushed_at,
    run_id       = excluded.run_id
