-- Customer updates QBO accepted, newest last: laid over staging until the next extract sees them.
select payload ->> 'Id' as qb_customer_id, payload, sent_at
from sync.outbox
where entity = 'Customer' and operation = 'update' and status = 'sent'
order by sent_at
