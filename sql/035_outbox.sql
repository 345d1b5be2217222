-- The transactional outbox for QuickBooks writes: plan every intended write in one transaction,
-- then send pending rows in batches. A batch is persisted (its exact items and requestid) before
-- it is sent, so a crash after QBO accepted it but before we recorded the answer re-sends the very
-- same request, and QBO replays its first response instead of creating the records again.

create table if not exists sync.outbox_batch (
    id            bigserial   primary key,
    request_id    text        not null unique check (length(request_id) <= 36),
    phase         smallint    not null,
    items         jsonb       not null,          -- the BatchItemRequest list exactly as sent
    status        text        not null default 'open' check (status in ('open', 'done')),
    run_id        text,
    created_at    timestamptz not null default now(),
    completed_at  timestamptz
);
create index if not exists outbox_batch_open on sync.outbox_batch (id) where status = 'open';

create table if not exists sync.outbox (
    id                 bigserial   primary key,
    idempotency_key    text        not null unique,   -- 'customer:<account id>:v1', 'invoice:<opp id>:v1'
    entity             text        not null,          -- QBO entity: 'Customer' | 'Invoice'
    operation          text        not null check (operation in ('create', 'update')),
    -- Items of one batch cannot see each other's results, so customers (1) go before invoices (2).
    phase              smallint    not null,
    source_object      text        not null,          -- 'Account' | 'Opportunity'
    source_id          text        not null,
    depends_on         text,                          -- idempotency key of a row this one needs
    payload            jsonb       not null,          -- the entity body to send
    payload_hash       text        not null,
    flags              text[]      not null default '{}',
    -- pending: to send; in_flight: in an open batch; sent; failed: rejected, retried next run;
    -- dead: rejected max_attempts times, surfaced; held: not sendable yet (hold_reason says why).
    status             text        not null default 'pending'
                       check (status in ('pending', 'in_flight', 'sent', 'failed', 'dead', 'held')),
    hold_reason        text,
    attempts           integer     not null default 0,
    batch_id           bigint      references sync.outbox_batch (id),
    bid                text        check (length(bid) <= 10),
    qb_id              text,
    last_error_code    text,
    last_error_message text,
    last_attempt_run   text,
    planned_run_id     text,
    partition_key      text,
    planned_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    sent_at            timestamptz
);
create index if not exists outbox_status on sync.outbox (status, phase);
create index if not exists outbox_source on sync.outbox (source_object, source_id);

-- Per-record failures, one row per failing write, with the API's own code and message.
create table if not exists sync.dead_letter (
    id              bigserial   primary key,
    key             text        not null unique,      -- outbox idempotency key, or 'salesforce:<Object>:<Id>'
    target          text        not null check (target in ('qbo', 'salesforce')),
    entity          text        not null,
    source_id       text,
    outbox_id       bigint      references sync.outbox (id),
    payload_hash    text,
    error_code      text,
    error_message   text,
    error_detail    text,
    attempts        integer     not null default 1,
    -- retrying: will be tried again next run; exhausted: gave up, needs a person; resolved: later succeeded
    status          text        not null default 'retrying' check (status in ('retrying', 'exhausted', 'resolved')),
    first_failed_at timestamptz not null default now(),
    last_failed_at  timestamptz not null default now(),
    resolved_at     timestamptz,
    run_id          text
);
create index if not exists dead_letter_open on sync.dead_letter (status) where status <> 'resolved';

-- Invoices LedgerLink created: opportunity -> QBO invoice, with the requestid that created it and
-- the entity QBO returned (used until the next extract brings the invoice into staging).
create table if not exists sync.invoice_xref (
    sf_opportunity_id text        primary key,
    qb_invoice_id     text        not null,
    doc_number        text,
    request_id        text,
    idempotency_key   text,
    outbox_id         bigint      references sync.outbox (id),
    entity            jsonb,
    created_at        timestamptz not null default now()
);
create unique index if not exists invoice_xref_invoice on sync.invoice_xref (qb_invoice_id);
