-- What the data-quality suite `planned_customers` validates before anything is sent (contract:
-- expectations/README.md): one row per QBO Customer write about to be made, i.e. every pending
-- or failed-for-retry outbox row of entity 'Customer' (creates planned with the invoices,
-- sparse updates planned by the customer field sync). Row-level failures quarantine as table
-- 'sync.planned_customers' keyed by the outbox idempotency key; the sender skips those rows, and
-- with them every invoice that depends on a held customer creation.
create or replace view sync.planned_customer_check as
with planned as (
    select o.idempotency_key                                        as outbox_key,
           o.operation,
           o.source_id                                              as account_id,
           case when o.operation = 'update' then o.payload ->> 'Id' end as qb_customer_id,
           -- A create must carry a DisplayName; an update only when it changes it (a sparse
           -- update cannot remove one, so a null or blank one there is as wrong as on a create).
           (o.operation = 'create' or o.payload ? 'DisplayName')    as name_required,
           o.payload ->> 'DisplayName'                              as display_name,
           -- QBO's comparison of names is not on record: compared trimmed, whitespace runs
           -- collapsed and case-insensitively (the stricter reading, as the sandbox does).
           nullif(lower(regexp_replace(btrim(o.payload ->> 'DisplayName', E' \t\r\n'), '\s+', ' ', 'g')), '')
                                                                    as name_key,
           o.payload -> 'PrimaryEmailAddr' ->> 'Address'            as email,
           o.payload -> 'CurrencyRef' ->> 'value'                   as currency,
           o.payload -> 'SalesTermRef' ->> 'value'                  as sales_term_id,
           o.payload
    from sync.outbox o
    where o.entity = 'Customer'
      and o.status in ('pending', 'failed')
)
select p.outbox_key,
       p.operation,
       p.account_id,
       p.qb_customer_id,
       p.name_required,
       p.display_name,
       p.name_key,
       -- Other planned writes that would give a customer the same name: QBO creates the first
       -- and answers 6240 to the rest, and which account is meant is in doubt.
       (select count(*) from planned q
         where q.name_key = p.name_key and q.outbox_key <> p.outbox_key)::integer as planned_name_clashes,
       -- A QBO customer already holding that name (inactive ones included: the stricter reading,
       -- QBO keeps their names; the customer an update renames is not its own clash). Vendors and
       -- employees share QBO's name list but are not extracted, so they are not seen here.
       (select min(c.id) from staging.qb_customer c
         where not c._deleted
           and p.name_key is not null
           and lower(regexp_replace(btrim(c.display_name, E' \t\r\n'), '\s+', ' ', 'g')) = p.name_key
           and c.id is distinct from p.qb_customer_id)              as qbo_name_owner,
       p.email,
       p.currency,
       p.sales_term_id,
       -- A SalesTermRef QBO would refuse (610): no live, active term with that id.
       case when p.sales_term_id is not null
             and not exists (select 1 from staging.qb_term t
                             where t.id = p.sales_term_id and not t._deleted and coalesce(t.active, true))
            then p.sales_term_id end                                as unusable_term_id,
       -- An update of a customer QBO no longer has as a live, active record (610 / stale).
       case when p.operation = 'update'
             and not exists (select 1 from staging.qb_customer c
                             where c.id = p.qb_customer_id and not c._deleted and coalesce(c.active, true))
            then coalesce(p.qb_customer_id, '(no Id)') end          as missing_update_target,
       -- Fields over QBO's Customer limits (shared/reference/quickbooks-online-api.md), e.g.
       -- 'CompanyName 120 > 100', null when every field fits.
       nullif(concat_ws(', ',
           (select string_agg(format('%s %s > %s', f.name, length(f.value), f.max_len), ', ' order by f.name)
            from (values
                ('CompanyName', p.payload ->> 'CompanyName', 100),
                ('GivenName', p.payload ->> 'GivenName', 100),
                ('MiddleName', p.payload ->> 'MiddleName', 100),
                ('FamilyName', p.payload ->> 'FamilyName', 100),
                ('Title', p.payload ->> 'Title', 16),
                ('Suffix', p.payload ->> 'Suffix', 16),
                ('PrintOnCheckName', p.payload ->> 'PrintOnCheckName', 110),
                ('Notes', p.payload ->> 'Notes', 2000),
                ('ResaleNum', p.payload ->> 'ResaleNum', 16),
                ('PrimaryPhone', p.payload -> 'PrimaryPhone' ->> 'FreeFormNumber', 30),
                ('BillAddr.Line1', p.payload -> 'BillAddr' ->> 'Line1', 500),
                ('BillAddr.Line2', p.payload -> 'BillAddr' ->> 'Line2', 500),
                ('BillAddr.Line3', p.payload -> 'BillAddr' ->> 'Line3', 500),
                ('BillAddr.Line4', p.payload -> 'BillAddr' ->> 'Line4', 500),
                ('BillAddr.Line5', p.payload -> 'BillAddr' ->> 'Line5', 500),
                ('BillAddr.City', p.payload -> 'BillAddr' ->> 'City', 255),
                ('BillAddr.CountrySubDivisionCode', p.payload -> 'BillAddr' ->> 'CountrySubDivisionCode', 255),
                ('BillAddr.Country', p.payload -> 'BillAddr' ->> 'Country', 255),
                ('BillAddr.PostalCode', p.payload -> 'BillAddr' ->> 'PostalCode', 30)
            ) as f(name, value, max_len)
            where length(f.value) > f.max_len),
           (select format('BillAddr lines %s > 2000', sum(length(l.value)))
            from jsonb_each_text(case when jsonb_typeof(p.payload -> 'BillAddr') = 'object'
                                 then p.payload -> 'BillAddr' else '{}' end) l
            where l.key in ('Line1', 'Line2', 'Line3', 'Line4', 'Line5')
            having sum(length(l.value)) > 2000)
       ), '')                                                       as oversized_fields
from planned p;
