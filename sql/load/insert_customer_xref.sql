-- Customers LedgerLink created for accounts: the link is certain, by construction.
insert into sync.customer_xref (sf_account_id, qb_customer_id, method, score)
select u.account, u.qb_id, 'created', 1.0
from unnest(%(accounts)s::text[], %(qb_ids)s::text[]) as u(account, qb_id)
on conflict do nothing
