update sync.outbox
set status = 'in_flight', batch_id = %(batch_id)s, bid = %(bid)s, payload = %(payload)s,
    last_attempt_run = %(run_id)s, updated_at = now()
where id = %(id)s
