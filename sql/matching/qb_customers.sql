-- QBO Customers as matcher records. CompanyName is the legal name; DisplayName may carry a
-- qualifier added only to keep names unique ("Acme Inc (2)"), so it is the fallback.
-- Inactive customers (QBO's "deleted") stay candidates but are never linked automatically.
select id,
       coalesce(nullif(trim(company_name), ''), display_name) as name,
       bill_line1  as line1,
       bill_line2  as line2,
       null::text  as line3,
       bill_city   as city,
       bill_postal_code as postal_code,
       phone,
       email,
       website,
       bill_country as country,
       coalesce(active, true) as active
from staging.qb_customer
where not _deleted
order by id
