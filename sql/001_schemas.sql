-- The three schemas: raw copies of both systems, the pipeline's own state, and reports.
create schema if not exists staging;
create schema if not exists sync;
create schema if not exists report;

-- Incremental extract position per source object. Advanced only after the data commits.
create table if not exists sync.watermark (
    source      text        not null,          -- 'salesforce' | 'qbo'
    object      text        not null,          -- 'Opportunity', 'Invoice', ...
    watermark   timestamptz,                    -- newest SystemModstamp / LastUpdatedTime loaded
    updated_at  timestamptz not null default now(),
    run_id      text,
    primary key (source, object)
);

-- One row per extract of one object in one run: what was read and written.
create table if not exists sync.extract_log (
    id           bigserial primary key,
    run_id       text,
    source       text        not null,
    object       text        not null,
    mode         text        not null,          -- 'full' | 'incremental'
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,
    rows_read    bigint      not null default 0,
    inserted     bigint      not null default 0,
    updated      bigint      not null default 0,
    deleted      bigint      not null default 0,
    watermark    timestamptz,
    error        text
);
