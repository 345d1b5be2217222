-- Where every live account stands after this run (the accounts this run looked at).
delete from sync.customer_match_status;
insert into sync.customer_match_status
    (sf_account_id, status, qb_customer_id, method, best_score, sf_cluster_id, run_id, updated_at)
select sf_account_id, status, qb_customer_id, method, best_score, sf_cluster_id, %(run_id)s, now()
from tmp_match_status;
