-- One row per load step of a run: its counts and the alerts it raised (read by the Slack sensor too).
create table if not exists sync.load_run (
    id            bigserial   primary key,
    run_id        text,
    step          text        not null,      -- 'plan' | 'send' | 'salesforce_push' | 'customer_sync'
    partition_key text,
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    counts        jsonb       not null default '{}',
    alerts        text[]      not null default '{}'
);
create index if not exists load_run_run on sync.load_run (run_id);
