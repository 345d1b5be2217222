-- Links made outside the matcher that stand until a person decides otherwise.
select sf_account_id, qb_customer_id, method
from sync.customer_xref
where method in ('created', 'manual')
