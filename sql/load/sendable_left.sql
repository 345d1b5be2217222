-- Outbox rows that a send should have taken and did not (quarantined opportunities and customer
-- writes excepted).
select o.idempotency_key, o.status
from sync.outbox o
left join sync.outbox d on d.idempotency_key = o.depends_on
where (o.status in ('pending', 'in_flight')
       or (o.status = 'failed' and o.last_attempt_run is null))
  and (o.depends_on is null or d.status = 'sent')
  and not (o.entity = 'Invoice' and o.source_id = any(%(skip)s))
  and not exists (select 1 from sync.open_quarantine q
                  where q.table_name = 'sync.planned_customers' and q.record_id = o.idempotency_key)
order by o.id
limit 20
