-- What the data-quality suite `planned_invoices` validates before anything is sent
-- (contract: expectations/README.md): one row per invoice creation about to be written to QBO.
-- Row-level failures quarantine as table 'sync.planned_invoices' keyed by the opportunity id,
-- and the sender skips those opportunities.
create or replace view sync.planned_invoice_check as
with refs as (
    select substring(i.private_note from '\m006[A-Za-z0-9]{15}\M') as opportunity_id, i.id
    from staging.qb_invoice i
    where i.private_note like '%006%'
    union all
    select x.sf_opportunity_id, x.qb_invoice_id from sync.invoice_xref x
)
select
    o.source_id                                                     as opportunity_id,
    o.id                                                            as outbox_id,
    o.idempotency_key,
    o.status,
    coalesce(o.payload -> 'CustomerRef' ->> 'value', d.qb_id, d.idempotency_key) as customer_id,
    coalesce(c.display_name, d.payload ->> 'DisplayName')           as display_name,
    o.payload ->> 'DocNumber'                                       as doc_number,
    coalesce(jsonb_array_length(o.payload -> 'Line'), 0)            as line_count,
    (select count(*) from jsonb_array_elements(o.payload -> 'Line') l
      where l -> 'SalesItemLineDetail' -> 'ItemRef' ->> 'value' is null)::integer as unmapped_item_count,
    coalesce((select sum((l ->> 'Amount')::numeric) from jsonb_array_elements(o.payload -> 'Line') l),
             0)::numeric(18, 2)                                     as total_amt,
    o.payload -> 'CurrencyRef' ->> 'value'                          as currency,
    (select min(r.id) from refs r where r.opportunity_id = o.source_id) as existing_invoice_id,
    o.payload ->> 'TxnDate'                                         as txn_date,
    o.payload ->> 'DueDate'                                         as due_date,
    o.flags
from sync.outbox o
left join sync.outbox d on d.idempotency_key = o.depends_on
left join staging.qb_customer c on c.id = o.payload -> 'CustomerRef' ->> 'value'
where o.entity = 'Invoice'
  and o.operation = 'create'
  and o.status in ('pending', 'failed');

-- Opportunities changed after their invoice was created: recorded, not silently rewritten.
create table if not exists sync.invoice_drift (
    sf_opportunity_id text        not null,
    qb_invoice_id     text        not null,
    field             text        not null,      -- 'amount' | 'currency' | 'lines' | 'customer'
    sf_value          text,
    qb_value          text,
    first_seen_at     timestamptz not null default now(),
    last_seen_at      timestamptz not null default now(),
    resolved_at       timestamptz,
    action            text        not null default 'reported' check (action in ('reported', 'update_planned')),
    primary key (sf_opportunity_id, qb_invoice_id, field)
);
