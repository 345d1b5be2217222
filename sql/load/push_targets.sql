-- Live Salesforce records the status push may write to.
select 'Opportunity' as object, o.id, o.account_id from staging.sf_opportunity o
where not o._deleted and not coalesce(o.is_deleted, false)
union all
select 'Account', a.id, null from staging.sf_account a
where not a._deleted and not coalesce(a.is_deleted, false)
