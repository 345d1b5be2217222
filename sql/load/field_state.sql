select sf_account_id, qb_customer_id, field, value from sync.customer_field_state
