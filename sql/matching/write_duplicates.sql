-- Duplicate clusters are rewritten for the systems this run matched.
delete from sync.duplicate_cluster where system = any(%(systems)s::text[]);
insert into sync.duplicate_cluster
    (system, record_id, cluster_id, center_id, is_center, score, method, contributions, run_id)
select system, record_id, cluster_id, center_id, is_center, score, method, contributions, %(run_id)s
from tmp_duplicate_cluster;

insert into sync.duplicate_review as r
    (system, left_id, right_id, score, reason, contributions, left_name, right_name,
     status, first_seen_run, last_seen_run, updated_at)
select system, left_id, right_id, score, reason, contributions, left_name, right_name,
       'pending', %(run_id)s, %(run_id)s, now()
from tmp_duplicate_review
on conflict (system, left_id, right_id) do update set
    score = excluded.score,
    reason = excluded.reason,
    contributions = excluded.contributions,
    left_name = excluded.left_name,
    right_name = excluded.right_name,
    status = 'pending',
    last_seen_run = excluded.last_seen_run,
    updated_at = now();

update sync.duplicate_review r
set status = case when exists (select 1 from sync.duplicate_decision d
                               where d.system = r.system and d.left_id = r.left_id and d.right_id = r.right_id)
                  then 'decided' else 'stale' end,
    updated_at = now()
where r.status = 'pending'
  and r.system = any(%(systems)s::text[])
  and not exists (select 1 from tmp_duplicate_review t
                  where t.system = r.system and t.left_id = r.left_id and t.right_id = r.right_id);
