-- Store a person's Account <-> Customer decision and close its review rows.
with stored as (
    insert into sync.match_decision (sf_account_id, qb_customer_id, decision, decided_by, note, source)
    values (%(sf)s, %(qb)s, %(decision)s, %(by)s, %(note)s, %(source)s)
    returning sf_account_id, qb_customer_id
)
update sync.match_review r
set status = 'decided', probably_exists = false, updated_at = now()
from stored s
where r.sf_account_id = s.sf_account_id
  and (r.qb_customer_id = s.qb_customer_id or %(decision)s = 'link')
  and r.status = 'pending'
