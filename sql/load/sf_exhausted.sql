-- Salesforce records given up on, per payload: not retried until their payload changes.
select key, payload_hash from sync.dead_letter
where target = 'salesforce' and status = 'exhausted'
