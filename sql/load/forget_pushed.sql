-- Salesforce no longer holds what we last pushed to these records (somebody changed it there).
delete from sync.sf_push_state where object = %(object)s and record_id = any(%(ids)s)
