-- QBO customers as staging has them, plus those LedgerLink created since (from the outbox),
-- so an invoice planned right after its customer was created knows the customer's currency.
select c.id, c.display_name, c.currency, c.sales_term_id, coalesce(c.active, true) as active, c._deleted
from staging.qb_customer c
union all
select o.qb_id, o.payload ->> 'DisplayName', o.payload -> 'CurrencyRef' ->> 'value',
       o.payload -> 'SalesTermRef' ->> 'value', true, false
from sync.outbox o
where o.entity = 'Customer' and o.operation = 'create' and o.status = 'sent'
  and not exists (select 1 from staging.qb_customer c where c.id = o.qb_id)
