-- Which of the given ids are live records of one system (for validating a decisions file).
select id from staging.sf_account
where %(system)s = 'salesforce' and id = any(%(ids)s::text[]) and not _deleted and not coalesce(is_deleted, false)
union all
select id from staging.qb_customer
where %(system)s = 'qbo' and id = any(%(ids)s::text[]) and not _deleted
