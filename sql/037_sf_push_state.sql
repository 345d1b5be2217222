-- What LedgerLink last wrote to each Salesforce record, so a run sends only what changed.
create table if not exists sync.sf_push_state (
    object        text        not null,      -- 'Opportunity' | 'Account'
    record_id     text        not null,
    payload_hash  text        not null,
    payload       jsonb       not null,
    pushed_at     timestamptz not null default now(),
    run_id        text,
    primary key (object, record_id)
);
