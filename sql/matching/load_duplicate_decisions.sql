-- People's decisions on two records inside one system, oldest first.
select system, left_id, right_id, decision, decided_by, decided_at, note
from sync.duplicate_decision
order by decided_at, id
