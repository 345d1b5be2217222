-- Customer fields synchronised both ways, each from its owning system (settings.loads.field_ownership).
-- A change made on the losing side is recorded here, then overwritten with the owner's value.
create table if not exists sync.field_conflict (
    id                bigserial   primary key,
    sf_account_id     text        not null,
    qb_customer_id    text        not null,
    field             text        not null,      -- 'name' | 'billing_address' | 'email' | 'phone' | 'payment_terms' | 'tax_settings'
    owner             text        not null check (owner in ('salesforce', 'qbo')),
    owner_value       jsonb,
    losing_value      jsonb,
    last_synced_value jsonb,
    detected_at       timestamptz not null default now(),
    run_id            text
);
create index if not exists field_conflict_account on sync.field_conflict (sf_account_id);

-- The value of each synchronised field as of the last successful sync, per pair: tells a change
-- on the losing side (differs from this) from a value that simply has not been pushed yet.
create table if not exists sync.customer_field_state (
    sf_account_id   text        not null,
    qb_customer_id  text        not null,
    field           text        not null,
    value           jsonb,
    synced_at       timestamptz not null default now(),
    primary key (sf_account_id, qb_customer_id, field)
);
