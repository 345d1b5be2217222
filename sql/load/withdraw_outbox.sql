-- Unsent rows the latest plan no longer wants (the opportunity left Closed Won, got an invoice
-- by hand, or its account was linked to an existing customer): never send them.
update sync.outbox o
set status = 'held',
    hold_reason = 'withdrawn: no longer needed by the latest plan',
    updated_at = now()
where o.status in ('pending', 'failed', 'held')
  and coalesce(o.hold_reason, '') not like 'withdrawn:%%'
  and split_part(o.idempotency_key, ':', 1) = any(%(kinds)s)
  and o.idempotency_key <> all(%(keep)s)
returning o.idempotency_key
