-- Plan one write. A row already in flight, sent, or dead with the same payload is left alone;
-- a dead row whose payload changed (somebody fixed the data) gets a fresh set of attempts.
insert into sync.outbox as o (
    idempotency_key, entity, operation, phase, source_object, source_id, depends_on,
    payload, payload_hash, flags, status, hold_reason, planned_run_id, partition_key)
values (
    %(key)s, %(entity)s, %(operation)s, %(phase)s, %(source_object)s, %(source_id)s, %(depends_on)s,
    %(payload)s, %(payload_hash)s, %(flags)s, %(status)s, %(hold_reason)s, %(run_id)s, %(partition_key)s)
on conflict (idempotency_key) do update set
    payload        = excluded.payload,
    payload_hash   = excluded.payload_hash,
    flags          = excluded.flags,
    depends_on     = excluded.depends_on,
    hold_reason    = excluded.hold_reason,
    status         = case
                       when excluded.status = 'held' then 'held'
                       when o.status in ('held', 'dead') then 'pending'
                       else o.status
                     end,
    attempts       = case when o.status = 'dead' then 0 else o.attempts end,
    planned_run_id = excluded.planned_run_id,
    partition_key  = excluded.partition_key,
    updated_at     = now()
where (o.status in ('pending', 'failed', 'held')
       and (o.payload_hash, o.status = 'held', coalesce(o.hold_reason, ''), o.depends_on)
           is distinct from
           (excluded.payload_hash, excluded.status = 'held', coalesce(excluded.hold_reason, ''), excluded.depends_on))
   or (o.status = 'dead' and excluded.status <> 'held' and o.payload_hash <> excluded.payload_hash)
returning o.id, o.status, (xmax = 0) as inserted
