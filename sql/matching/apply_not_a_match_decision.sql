-- A person's 'not a match' removes that exact link at once, whoever made it.
delete from sync.customer_xref where sf_account_id = %(sf)s and qb_customer_id = %(qb)s
