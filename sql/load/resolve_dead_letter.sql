update sync.dead_letter
set status = 'resolved', resolved_at = now()
where key = %(key)s and status <> 'resolved'
