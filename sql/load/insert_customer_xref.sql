-- A customer LedgerLink created for an account: the link is certain, by construction.
insert into sync.customer_xref (sf_account_id, qb_customer_id, method, score)
values (%(account)s, %(qb_id)s, 'created', 1.0)
on conflict do nothing
