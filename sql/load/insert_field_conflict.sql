-- One row per distinct overwrite: a losing-side value that keeps coming back until the
-- overwrite lands is not recorded again.
insert into sync.field_conflict (sf_account_id, qb_customer_id, field, owner, owner_value, losing_value,
                                 last_synced_value, run_id)
select %(account)s, %(customer)s, %(field)s, %(owner)s, %(owner_value)s, %(losing_value)s, %(last)s, %(run_id)s
where not exists (
    select 1 from sync.field_conflict f
    where f.sf_account_id = %(account)s and f.qb_customer_id = %(customer)s and f.field = %(field)s
      and f.owner_value = %(owner_value)s and f.losing_value = %(losing_value)s)
