-- Customer matching: Salesforce Account <-> QBO Customer links, duplicates inside each system,
-- the review queue, and people's decisions (which always win over scores on later runs).

-- One QBO customer per Salesforce account; several accounts (duplicates of one company) may
-- share a customer, so qb_customer_id is indexed, not unique.
create table if not exists sync.customer_xref (
    sf_account_id   text primary key,
    qb_customer_id  text        not null,
    -- human: a person's decision; manual: linked by hand outside the review flow;
    -- existing_xref: Account.QBO_Customer_Id__c; created: the loads created the customer;
    -- auto: score above the auto-link threshold; duplicate: follows a linked duplicate account.
    method          text        not null default 'auto',
    score           numeric(6, 4),
    decided_by      text        not null default 'ledgerlink',
    decided_at      timestamptz not null default now(),
    run_id          text,
    contributions   jsonb,       -- per-field similarity and contribution to the score
    note            text,
    constraint customer_xref_method check (
        method in ('human', 'manual', 'existing_xref', 'created', 'auto', 'duplicate'))
);
create index if not exists customer_xref_qb_customer on sync.customer_xref (qb_customer_id);

-- People's verdicts on Account <-> Customer pairs. Append-only: the latest row per pair wins,
-- earlier rows stay as the audit trail.
create table if not exists sync.match_decision (
    id              bigserial primary key,
    sf_account_id   text        not null,
    qb_customer_id  text        not null,
    decision        text        not null check (decision in ('link', 'not_a_match')),
    decided_by      text        not null,
    decided_at      timestamptz not null default now(),
    note            text,
    source          text         -- e.g. the imported file's name
);
create index if not exists match_decision_pair on sync.match_decision (sf_account_id, qb_customer_id, decided_at desc);

-- People's verdicts on two records inside one system (left_id < right_id).
create table if not exists sync.duplicate_decision (
    id          bigserial primary key,
    system      text        not null check (system in ('salesforce', 'qbo')),
    left_id     text        not null,
    right_id    text        not null,
    decision    text        not null check (decision in ('link', 'not_a_match')),
    decided_by  text        not null,
    decided_at  timestamptz not null default now(),
    note        text,
    source      text,
    check (left_id < right_id)
);
create index if not exists duplicate_decision_pair on sync.duplicate_decision (system, left_id, right_id, decided_at desc);

-- The review queue for Account <-> Customer pairs. A pending row means the account probably
-- exists in QBO already: the loads must not create a customer for it until a person decides.
create table if not exists sync.match_review (
    id               bigserial primary key,
    sf_account_id    text        not null,
    qb_customer_id   text        not null,
    score            numeric(6, 4),
    rank             integer,     -- 1 = the account's best candidate
    reason           text,
    contributions    jsonb,
    sf_name          text,
    qb_name          text,
    probably_exists  boolean     not null default true,
    status           text        not null default 'pending' check (status in ('pending', 'decided', 'stale')),
    first_seen_run   text,
    last_seen_run    text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
create unique index if not exists match_review_pair on sync.match_review (sf_account_id, qb_customer_id);
create index if not exists match_review_pending on sync.match_review (sf_account_id) where status = 'pending';

-- The review queue for possible duplicates inside one system.
create table if not exists sync.duplicate_review (
    id              bigserial primary key,
    system          text        not null check (system in ('salesforce', 'qbo')),
    left_id         text        not null,
    right_id        text        not null,
    score           numeric(6, 4),
    reason          text,
    contributions   jsonb,
    left_name       text,
    right_name      text,
    status          text        not null default 'pending' check (status in ('pending', 'decided', 'stale')),
    first_seen_run  text,
    last_seen_run   text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    unique (system, left_id, right_id)
);

-- Duplicate clusters inside each system, rewritten by every matching run. Every member is
-- strongly linked to the cluster's centre (no chains of weak links), or joined by a person.
create table if not exists sync.duplicate_cluster (
    system          text        not null check (system in ('salesforce', 'qbo')),
    record_id       text        not null,
    cluster_id      text        not null,
    center_id       text        not null,
    is_center       boolean     not null,
    score           numeric(6, 4),   -- the member's score against the centre
    method          text        not null,  -- auto | human
    contributions   jsonb,
    run_id          text,
    primary key (system, record_id)
);
create index if not exists duplicate_cluster_cluster on sync.duplicate_cluster (system, cluster_id);

-- Where every live Salesforce account stands after the last matching run. `new` is the only
-- status for which the loads may create a QBO customer, and then one per sf_cluster_id.
create table if not exists sync.customer_match_status (
    sf_account_id   text primary key,
    status          text        not null check (status in ('linked', 'pending_review', 'new')),
    qb_customer_id  text,
    method          text,
    best_score      numeric(6, 4),
    sf_cluster_id   text,
    run_id          text,
    updated_at      timestamptz not null default now()
);

-- One row per matching run: what it decided, with which settings.
create table if not exists sync.match_run (
    run_id       text primary key,
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,
    counts       jsonb,
    settings     jsonb
);
