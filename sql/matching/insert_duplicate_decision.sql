-- Store a person's decision on two records of one system and close its review row.
with stored as (
    insert into sync.duplicate_decision (system, left_id, right_id, decision, decided_by, note, source)
    values (%(system)s, %(left)s, %(right)s, %(decision)s, %(by)s, %(note)s, %(source)s)
    returning system, left_id, right_id
)
update sync.duplicate_review r
set status = 'decided', updated_at = now()
from stored s
where r.system = s.system and r.left_id = s.left_id and r.right_id = s.right_id and r.status = 'pending'
