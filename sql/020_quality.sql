-- Data-quality gates: results of every suite run, the quarantine of bad records, and a scratch
-- schema for the snapshots the suites are validated against (see ledgerlink/quality/__init__.py).

-- Snapshots `quality.<suite>` are (re)built at each validation and dropped afterwards.
create schema if not exists quality;

-- One row per expectation per suite run. `examples` holds a few failing rows as JSON objects
-- (the row's key columns plus the offending value), `observed` GX's observed value for
-- aggregate expectations (row counts, means).
create table if not exists sync.quality_result (
    id                  bigserial   primary key,
    run_id              text        not null,
    suite               text        not null,
    asset_key           text        not null,            -- 'staging/sf_opportunity'
    expectation         text        not null,            -- stable name from the suite file
    expectation_type    text        not null,
    column_name         text,
    severity            text        not null,            -- critical | warning | info
    level               text        not null,            -- table | row (row = quarantines)
    blocking            boolean     not null,            -- the suite's check blocks downstream
    outcome             text        not null,            -- passed | failed | error
    escalated           boolean     not null default false,  -- row-level failure treated as table-level
    suite_rows          bigint,                          -- rows the suite validated
    element_count       bigint,
    unexpected_count    bigint,
    unexpected_percent  double precision,
    quarantined         integer     not null default 0,  -- open quarantine rows after this run
    newly_quarantined   integer     not null default 0,
    released            integer     not null default 0,
    examples            jsonb       not null default '[]'::jsonb,
    observed            jsonb,
    message             text,
    description         text,
    checked_at          timestamptz not null default now()
);
create index if not exists quality_result_run on sync.quality_result (run_id, suite);
create index if not exists quality_result_checked on sync.quality_result (checked_at desc);

-- Records held back from the loads. One open row (released_at null) per record, suite and
-- expectation; a record stays out of the loads while any of its rows is open. When a later
-- validation finds the record good again the row gets released_at / released_run, and a new
-- failure after that opens a new row, so the history is kept.
create table if not exists sync.quarantine (
    id              bigserial   primary key,
    table_name      text        not null,   -- whose record is held: 'staging.sf_opportunity'
    record_id       text        not null,   -- that table's id
    suite           text        not null,
    expectation     text        not null,
    column_name     text,
    value           text,                   -- the offending value, as text
    reason          text        not null,
    severity        text        not null,
    first_seen_run  text,
    last_seen_run   text,
    first_seen_at   timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    released_at     timestamptz,
    released_run    text
);
create unique index if not exists quarantine_open_key
    on sync.quarantine (table_name, record_id, suite, expectation) where released_at is null;
create index if not exists quarantine_open_record
    on sync.quarantine (table_name, record_id) where released_at is null;

-- What the loads must skip: records with at least one open quarantine row.
create or replace view sync.open_quarantine as
select table_name, record_id, suite, expectation, column_name, value, reason, severity,
       first_seen_run, last_seen_run, first_seen_at, last_seen_at
from sync.quarantine
where released_at is null;
