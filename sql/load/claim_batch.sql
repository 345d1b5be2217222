-- The next rows of a phase to send: pending ones, and failed ones not yet tried in this run,
-- whose dependency (the customer an invoice needs) has been created. Locked, so two senders
-- never take the same row.
select o.id, o.idempotency_key, o.entity, o.operation, o.source_id, o.payload, o.attempts,
       d.qb_id as dependency_qb_id
from sync.outbox o
left join sync.outbox d on d.idempotency_key = o.depends_on
where o.phase = %(phase)s
  and (o.status = 'pending' or (o.status = 'failed' and o.last_attempt_run is distinct from %(run_id)s))
  and (o.depends_on is null or d.status = 'sent')
  -- Quarantined by the planned-invoice checks: the invoice, and a customer only those need.
  and not (o.entity = 'Invoice' and o.source_id = any(%(skip_opportunities)s))
  -- Quarantined by the planned-customer checks: the customer write itself. Invoices needing a
  -- held customer creation wait on it through depends_on (it is never 'sent' while held).
  and o.idempotency_key <> all(%(skip_keys)s)
  and not (o.phase = 1 and exists (select 1 from sync.outbox i where i.depends_on = o.idempotency_key)
           and not exists (select 1 from sync.outbox i
                           where i.depends_on = o.idempotency_key
                             and i.status in ('pending', 'failed', 'in_flight', 'sent')
                             and i.source_id <> all(%(skip_opportunities)s)))
order by o.id
limit %(limit)s
for update of o skip locked
