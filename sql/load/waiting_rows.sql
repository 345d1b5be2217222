-- Rows that could not be sent because what they depend on is not created (yet).
select o.idempotency_key, o.depends_on, d.status as dependency_status
from sync.outbox o
join sync.outbox d on d.idempotency_key = o.depends_on
where o.status in ('pending', 'failed') and d.status <> 'sent'
order by o.id
