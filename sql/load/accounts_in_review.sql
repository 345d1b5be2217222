-- Accounts the matcher says probably exist in QBO: their customer waits for a person's decision.
select distinct r.sf_account_id
from sync.match_review r
where r.status = 'pending'
