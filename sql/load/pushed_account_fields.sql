select record_id, payload, pushed_at from sync.sf_push_state where object = %(object)s
