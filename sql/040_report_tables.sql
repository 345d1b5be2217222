-- Month-end reports: Closed Won versus Invoiced reconciliation, its bridge, and receivables aging.
-- Every table is keyed by `month` ('YYYY-MM'); a rebuild replaces one month in one transaction.
-- Amounts are numeric(18,2) in the column's stated currency: `*_home` columns are in the home
-- currency (Settings.reports.home_currency), the others in the document's own currency.

-- One row per Closed Won opportunity closed in the month, and one per invoice dated in the month
-- that is not already on an opportunity row (ledgerlink/reconcile/rules.py).
create table if not exists report.reconciliation (
    month                  text          not null,
    row_no                 integer       not null,
    row_kind               text          not null,   -- 'opportunity' | 'invoice'
    category               text          not null,
    sf_opportunity_id      text,
    opportunity_name       text,
    opportunity_stage      text,
    sf_account_id          text,
    account_name           text,
    owner_id               text,
    owner_name             text,
    close_date             date,
    opp_currency           text,
    opp_amount             numeric(18,2),
    opp_rate               numeric(18,6),
    opp_amount_home        numeric(18,2),
    opp_line_items         integer,
    match_method           text,                     -- how the invoice was tied to the opportunity
    linked_invoices        integer,                  -- all invoices referring to the opportunity
    live_linked_invoices   integer,
    qbo_invoice_id         text,
    invoice_doc_number     text,
    qbo_customer_id        text,
    customer_name          text,
    customer_linked        boolean,                  -- invoice customer is linked to the account
    invoice_status         text,                     -- 'live' | 'voided' | 'deleted'
    invoice_txn_date       date,
    invoice_due_date       date,
    invoice_currency       text,
    invoice_exchange_rate  numeric(18,6),
    invoice_total          numeric(18,2),
    invoice_balance        numeric(18,2),
    invoice_total_home     numeric(18,2),
    invoice_sales_lines    integer,
    credit_memo_total      numeric(18,2),
    variance               numeric(18,2),            -- invoice total - opportunity amount, same currency only
    days_close_to_invoice  integer,
    closed_won_home        numeric(18,2) not null,
    invoiced_home          numeric(18,2) not null,
    variance_home          numeric(18,2) not null,   -- invoiced_home - closed_won_home: the row's bridge effect
    primary key (month, row_no)
);
create index if not exists reconciliation_opportunity_idx on report.reconciliation (sf_opportunity_id);
create index if not exists reconciliation_invoice_idx on report.reconciliation (qbo_invoice_id);

-- Closed Won total -> effect of each category -> Invoiced total.
create table if not exists report.bridge (
    month            text          not null,
    position         integer       not null,
    line             text          not null,        -- 'Closed Won total' | category | 'Invoiced total'
    rows             integer       not null,
    closed_won_home  numeric(18,2) not null,
    invoiced_home    numeric(18,2) not null,
    amount_home      numeric(18,2) not null,        -- total, or the category's effect
    running_home     numeric(18,2) not null,
    home_currency    text          not null,
    primary key (month, position)
);

create table if not exists report.bridge_by_customer (
    month            text          not null,
    position         integer       not null,
    sf_account_id    text,
    qbo_customer_id  text,
    customer_name    text,
    rows             integer       not null,
    closed_won_home  numeric(18,2) not null,
    invoiced_home    numeric(18,2) not null,
    variance_home    numeric(18,2) not null,
    primary key (month, position)
);

create table if not exists report.bridge_by_owner (
    month            text          not null,
    position         integer       not null,
    owner_id         text,
    owner_name       text,
    rows             integer       not null,
    closed_won_home  numeric(18,2) not null,
    invoiced_home    numeric(18,2) not null,
    variance_home    numeric(18,2) not null,
    primary key (month, position)
);

-- Open invoices at the month's last day, aged from the due date.
create table if not exists report.aging_invoice (
    month               text          not null,
    as_of_date          date          not null,
    qbo_invoice_id      text          not null,
    invoice_doc_number  text,
    qbo_customer_id     text,
    customer_name       text,
    txn_date            date,
    due_date            date,
    currency            text,
    exchange_rate       numeric(18,6),
    invoice_total       numeric(18,2),
    open_balance        numeric(18,2) not null,
    open_balance_home   numeric(18,2) not null,
    aged_from           text          not null,   -- 'due_date'
    days_past_due       integer       not null,
    bucket              text          not null,
    primary key (month, qbo_invoice_id)
);

create table if not exists report.aging_customer (
    month              text          not null,
    position           integer       not null,
    as_of_date         date          not null,
    aged_from          text          not null,
    qbo_customer_id    text,
    customer_name      text,
    currency           text          not null,
    open_invoices      integer       not null,
    bucket_current     numeric(18,2) not null,
    bucket_1_30        numeric(18,2) not null,
    bucket_31_60       numeric(18,2) not null,
    bucket_61_90       numeric(18,2) not null,
    bucket_91_plus     numeric(18,2) not null,
    total              numeric(18,2) not null,
    total_home         numeric(18,2) not null,
    primary key (month, position)
);

create table if not exists report.aging_summary (
    month                text          primary key,
    as_of_date           date          not null,
    aged_from            text          not null,
    home_currency        text          not null,
    open_invoices        integer       not null,
    current_home         numeric(18,2) not null,
    days_1_30_home       numeric(18,2) not null,
    days_31_60_home      numeric(18,2) not null,
    days_61_90_home      numeric(18,2) not null,
    days_91_plus_home    numeric(18,2) not null,
    receivables_home     numeric(18,2) not null,
    credit_sales_home    numeric(18,2) not null,
    days_in_period       integer       not null,
    dso_days             numeric(18,2)              -- null when the month has no credit sales
);

-- When each month's reports were last built, for the download page.
create table if not exists report.month_build (
    month          text        not null,
    report         text        not null,           -- 'reconciliation' | 'aging'
    built_at       timestamptz not null default now(),
    home_currency  text        not null,
    files          jsonb       not null default '{}',  -- export name -> CSV path written
    primary key (month, report)
);
