-- What the data-quality suite validates before anything is sent: one row per planned invoice
-- write that has not been sent yet. `outbox_id` is the row key (quarantine it to stop the send).
create or replace view sync.planned_invoice as
select
    o.id                                                   as outbox_id,
    o.idempotency_key,
    o.operation,
    o.status,
    o.hold_reason,
    o.source_id                                            as sf_opportunity_id,
    o.payload -> 'CustomerRef' ->> 'value'                 as qb_customer_id,
    o.depends_on,
    o.payload ->> 'DocNumber'                              as doc_number,
    o.payload ->> 'PrivateNote'                            as private_note,
    (o.payload ->> 'TxnDate')::date                        as txn_date,
    (o.payload ->> 'DueDate')::date                        as due_date,
    o.payload -> 'SalesTermRef' ->> 'value'                as sales_term_id,
    o.payload -> 'CurrencyRef' ->> 'value'                 as currency,
    (o.payload ->> 'ExchangeRate')::numeric                as exchange_rate,
    coalesce((
        select sum((l ->> 'Amount')::numeric)
        from jsonb_array_elements(o.payload -> 'Line') l
    ), 0)::numeric(18, 2)                                  as total_amount,
    coalesce(jsonb_array_length(o.payload -> 'Line'), 0)   as line_count,
    (
        select bool_and(l -> 'SalesItemLineDetail' -> 'ItemRef' ->> 'value' is not null)
        from jsonb_array_elements(o.payload -> 'Line') l
    )                                                      as all_lines_have_item,
    o.flags,
    o.attempts,
    o.partition_key,
    o.planned_run_id,
    o.planned_at
from sync.outbox o
where o.entity = 'Invoice'
  and o.status in ('pending', 'failed', 'held');

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
