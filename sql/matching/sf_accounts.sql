-- Live Salesforce Accounts as matcher records. Accounts have no e-mail field, so the most
-- common company domain among the Account's live Contacts stands in (free mailbox domains
-- such as gmail.com say nothing about the company and are skipped; ties go to the first
-- domain alphabetically so runs are repeatable).
with contact_domain as (
    select c.account_id,
           lower(split_part(c.email, '@', 2)) as domain,
           count(*) as n
    from staging.sf_contact c
    where not c._deleted
      and not coalesce(c.is_deleted, false)
      and c.email like '%%_@_%%'
      and lower(split_part(c.email, '@', 2)) <> all(%(free_domains)s::text[])
    group by 1, 2
),
best_domain as (
    select distinct on (account_id) account_id, domain
    from contact_domain
    order by account_id, n desc, domain
)
select a.id,
       a.name,
       a.billing_street      as address,
       a.billing_city        as city,
       a.billing_postal_code as postal_code,
       a.phone,
       d.domain              as email,
       a.website,
       a.billing_country     as country,
       nullif(trim(a.qbo_customer_id), '') as qbo_customer_id
from staging.sf_account a
left join best_domain d on d.account_id = a.id
where not a._deleted
  and not coalesce(a.is_deleted, false)
order by a.id
