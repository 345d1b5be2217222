select id, request_id, phase, items from sync.outbox_batch where status = 'open' order by id
