insert into sync.customer_field_state (sf_account_id, qb_customer_id, field, value, synced_at)
values (%(account)s, %(customer)s, %(field)s, %(value)s, now())
on conflict (sf_account_id, qb_customer_id, field) do update set value = excluded.value, synced_at = now()
where customer_field_state.value is distinct from excluded.value
