-- Closed Won opportunities (stage names from settings) with their account, live in Salesforce.
select
    o.id, o.name, o.account_id, o.stage_name, o.close_date, o.amount, o.currency_iso_code,
    a.id as a_id, a.name as a_name, a.billing_street, a.billing_city, a.billing_state,
    a.billing_postal_code, a.billing_country, a.phone, a.website,
    (select c.email from staging.sf_contact c
      where c.account_id = a.id and c.email is not null and not c._deleted and not coalesce(c.is_deleted, false)
      order by c.id limit 1) as email
from staging.sf_opportunity o
left join staging.sf_account a
       on a.id = o.account_id and not a._deleted and not coalesce(a.is_deleted, false)
where o.stage_name = any(%(stages)s)
  and not o._deleted
  and not coalesce(o.is_deleted, false)
order by o.id
