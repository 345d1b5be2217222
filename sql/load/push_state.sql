select object, record_id, payload_hash from sync.sf_push_state
