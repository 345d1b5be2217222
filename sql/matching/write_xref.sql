-- This run's links replace the previous ones for the accounts it looked at (tmp_match_status).
-- A link made outside the matcher (created / manual) is only removed by a person's
-- 'not a match' on that exact pair; rows for accounts this run did not see are left alone.
with latest as (
    select distinct on (sf_account_id, qb_customer_id) sf_account_id, qb_customer_id, decision
    from sync.match_decision
    order by sf_account_id, qb_customer_id, decided_at desc, id desc
)
delete from sync.customer_xref x
using tmp_match_status s
where x.sf_account_id = s.sf_account_id
  and not exists (select 1 from tmp_match_xref t where t.sf_account_id = x.sf_account_id)
  and (x.method not in ('created', 'manual')
       or exists (select 1 from latest l
                  where l.sf_account_id = x.sf_account_id and l.qb_customer_id = x.qb_customer_id
                    and l.decision = 'not_a_match'));

-- An unchanged link keeps who decided it and when; a changed one takes this run's values.
insert into sync.customer_xref as x
    (sf_account_id, qb_customer_id, method, score, decided_by, decided_at, run_id, contributions, note)
select sf_account_id, qb_customer_id, method, score, coalesce(decided_by, 'ledgerlink'),
       coalesce(decided_at, now()), %(run_id)s, contributions, note
from tmp_match_xref
on conflict (sf_account_id) do update set
    decided_by = case when x.qb_customer_id = excluded.qb_customer_id and x.method = excluded.method
                      then x.decided_by else excluded.decided_by end,
    decided_at = case when x.qb_customer_id = excluded.qb_customer_id and x.method = excluded.method
                      then x.decided_at else excluded.decided_at end,
    qb_customer_id = excluded.qb_customer_id,
    method = excluded.method,
    score = excluded.score,
    run_id = excluded.run_id,
    contributions = excluded.contributions,
    note = excluded.note;
