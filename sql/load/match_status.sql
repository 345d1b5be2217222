-- Where each account stood after the last matching run (empty if matching has not run): 'new'
-- accounts get one QBO customer per duplicate cluster (sf_cluster_id), 'pending_review' none.
select sf_account_id, status, qb_customer_id, sf_cluster_id
from sync.customer_match_status
