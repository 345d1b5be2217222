-- Linked account/customer pairs with the fields synchronised both ways. An account linked to
-- several customers syncs with its strongest link only; a customer linked from several
-- (duplicate) accounts syncs with the lowest account Id only, so two accounts never fight
-- over one customer.
-- A pair whose account (staging.sf_account) or customer (staging.qb_customer) is held by a
-- data-quality check is left out: nothing is written to either side, no conflict recorded and no
-- agreed value stored for it, until the hold is released (the record fixed at its source).
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
), customers as (
    select c.id, c.sync_token, c.display_name, c.email, c.phone, c.bill_line1, c.bill_line2, c.bill_city,
           c.bill_region, c.bill_postal_code, c.bill_country, c.sales_term_id, c.taxable, c._extracted_at
    from staging.qb_customer c
    where not c._deleted
    union all
    -- Customers LedgerLink created since the last extract, read from the body QBO accepted: their
    -- fields sync the night they are created, not again on the first night they reach staging.
    select o.qb_id, '0', o.payload ->> 'DisplayName', o.payload #>> '{PrimaryEmailAddr,Address}',
           o.payload #>> '{PrimaryPhone,FreeFormNumber}', o.payload #>> '{BillAddr,Line1}',
           o.payload #>> '{BillAddr,Line2}', o.payload #>> '{BillAddr,City}',
           o.payload #>> '{BillAddr,CountrySubDivisionCode}', o.payload #>> '{BillAddr,PostalCode}',
           o.payload #>> '{BillAddr,Country}', o.payload #>> '{SalesTermRef,value}',
           (o.payload ->> 'Taxable')::boolean, o.sent_at
    from sync.outbox o
    where o.entity = 'Customer' and o.operation = 'create' and o.status = 'sent' and o.qb_id is not null
      and not exists (select 1 from staging.qb_customer c where c.id = o.qb_id)
)
select
    a.id as sf_account_id, a.name, a.billing_street, a.billing_city, a.billing_state,
    a.billing_postal_code, a.billing_country, a.phone, a.qbo_payment_terms, a.qbo_taxable,
    a._extracted_at as sf_extracted_at,
    (select ct.email from staging.sf_contact ct
      where ct.account_id = a.id and ct.email is not null and not ct._deleted and not coalesce(ct.is_deleted, false)
      order by ct.id limit 1) as email,
    c.id as qb_customer_id, c.sync_token, c.display_name, c.email as qb_email, c.phone as qb_phone,
    c.bill_line1, c.bill_line2, c.bill_city, c.bill_region, c.bill_postal_code, c.bill_country,
    c.sales_term_id, c.taxable, c._extracted_at as qb_extracted_at
from owned o
join staging.sf_account a on a.id = o.sf_account_id and not a._deleted and not coalesce(a.is_deleted, false)
join customers c on c.id = o.qb_customer_id
where not exists (select 1 from sync.open_quarantine q
                  where q.table_name = 'staging.sf_account' and q.record_id = a.id)
  and not exists (select 1 from sync.open_quarantine q
                  where q.table_name = 'staging.qb_customer' and q.record_id = c.id)
order by a.id
