-- People's Account <-> Customer decisions, oldest first (the matcher keeps the latest per pair).
select sf_account_id, qb_customer_id, decision, decided_by, decided_at, note
from sync.match_decision
order by decided_at, id
