-- One Salesforce API budget per pipeline run, shared by every step that writes to Salesforce
-- (the invoice status push and the customer field sync): settings.loads.salesforce_budget_share
-- of the requests the org had left when the run's first Salesforce write began. Per step, two
-- steps with a share of 0.5 could spend three quarters of what the org had left.
create table if not exists sync.salesforce_run_budget (
    run_id           text        primary key,
    remaining_before integer     not null,   -- the org's remaining daily requests at the start
    allowed          integer     not null,   -- what the whole run may spend
    spent            integer     not null default 0,
    created_at       timestamptz not null default now()
);
