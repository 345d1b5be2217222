-- Linked account/customer pairs with the fields synchronised both ways. An account linked to
-- several customers syncs with its strongest link only; a customer linked from several
-- (duplicate) accounts syncs with the lowest account Id only, so two accounts never fight
-- over one customer.
with links as (
    select distinct on (x.sf_account_id) x.sf_account_id, x.qb_customer_id
    from sync.customer_xref x
    where x.qb_customer_id is not null
    order by x.sf_account_id,
             case x.method when 'human' then 0 when 'manual' then 0 when 'existing_xref' then 1
                           when 'created' then 1 when 'auto' then 2 else 3 end,
             x.qb_customer_id
), owned as (
    select distinct on (qb_customer_id) sf_account_id, qb_customer_id
    from links
    order by qb_customer_id, sf_account_id
)
select
    a.id as sf_account_id, a.name, a.billing_street, a.billing_city, a.billing_state,
    a.billing_postal_code, a.billing_country, a.phone, a.raw as sf_raw, a._extracted_at as sf_extracted_at,
    (select ct.email from staging.sf_contact ct
      where ct.account_id = a.id and ct.email is not null and not ct._deleted and not coalesce(ct.is_deleted, false)
      order by ct.id limit 1) as email,
    c.id as qb_customer_id, c.sync_token, c.display_name, c.email as qb_email, c.phone as qb_phone,
    c.bill_line1, c.bill_line2, c.bill_city, c.bill_region, c.bill_postal_code, c.bill_country,
    c.sales_term_id, c.taxable, c._extracted_at as qb_extracted_at
from owned o
join staging.sf_account a on a.id = o.sf_account_id and not a._deleted and not coalesce(a.is_deleted, false)
join staging.qb_customer c on c.id = o.qb_customer_id and not c._deleted
order by a.id
