-- This run's Account <-> Customer review pairs become (or stay) pending.
insert into sync.match_review as r
    (sf_account_id, qb_customer_id, score, rank, reason, contributions, sf_name, qb_name,
     probably_exists, status, first_seen_run, last_seen_run, updated_at)
select sf_account_id, qb_customer_id, score, rank, reason, contributions, sf_name, qb_name,
       true, 'pending', %(run_id)s, %(run_id)s, now()
from tmp_match_review
on conflict (sf_account_id, qb_customer_id) do update set
    score = excluded.score,
    rank = excluded.rank,
    reason = excluded.reason,
    contributions = excluded.contributions,
    sf_name = excluded.sf_name,
    qb_name = excluded.qb_name,
    probably_exists = true,
    status = 'pending',
    last_seen_run = excluded.last_seen_run,
    updated_at = now();

-- Pending pairs this run no longer proposes: decided by a person, or stale (data changed,
-- the account got linked another way, or it is gone).
update sync.match_review r
set status = case when exists (select 1 from sync.match_decision d
                               where d.sf_account_id = r.sf_account_id and d.qb_customer_id = r.qb_customer_id)
                  then 'decided' else 'stale' end,
    probably_exists = false,
    updated_at = now()
where r.status = 'pending'
  and not exists (select 1 from tmp_match_review t
                  where t.sf_account_id = r.sf_account_id and t.qb_customer_id = r.qb_customer_id);
