update sync.dead_letter
set status = 'resolved', resolved_at = now()
where key = any(%(keys)s) and status <> 'resolved'
