-- What the reconciliation rules (ledgerlink/reconcile/rules.py) need to know about every
-- opportunity and invoice, computed once per build into two temporary tables that the
-- reconciliation and aging statements read. Dropped at the end of the build's transaction.
--
-- Parameters: %(home)s home currency, %(rates)s jsonb {currency: home units per unit},
-- %(ref_pattern)s the opportunity-Id pattern (rules.OPPORTUNITY_REF in Postgres regex syntax).

drop table if exists pg_temp.rpt_invoice;
drop table if exists pg_temp.rpt_opportunity;

create temp table rpt_invoice on commit drop as
with sales_lines as (
    select parent_id, count(*) as n
    from staging.qb_invoice_line
    where not _deleted and detail_type = 'SalesItemLineDetail'
    group by parent_id
),
credit as (
    select invoice_id, sum(total_amt) as total
    from staging.qb_credit_memo
    where not _deleted and invoice_id is not null
    group by invoice_id
),
invoice as (
    select
        i.id,
        -- QBO Ids are numbers in text: "lowest Id" compares them as numbers.
        case when i.id ~ '^[0-9]+$' then lpad(i.id, 30, '0') else i.id end as id_key,
        i.doc_number,
        i.customer_id,
        coalesce(c.display_name, i.customer_name) as customer_name,
        i.txn_date,
        i.due_date,
        coalesce(i.total_amt, 0) as total_amt,
        i.balance,
        coalesce(i.currency, %(home)s) as currency,
        i.exchange_rate,
        i.home_total_amt,
        i._deleted as deleted,
        -- THE voided predicate (QBO keeps a voided invoice with TotalAmt 0 and a PrivateNote
        -- starting with "Voided"). Everything else reads `voided` / `live` from here.
        (coalesce(i.total_amt, 0) = 0 and starts_with(coalesce(i.private_note, ''), 'Voided')) as voided,
        substring(i.private_note from %(ref_pattern)s) as opportunity_ref,
        coalesce(sl.n, 0)::integer as sales_lines,
        cr.total as credit_memo_total
    from staging.qb_invoice i
    left join staging.qb_customer c on c.id = i.customer_id and not c._deleted
    left join sales_lines sl on sl.parent_id = i.id
    left join credit cr on cr.invoice_id = i.id
),
classified as (
    select
        inv.*,
        not inv.deleted and not inv.voided as live,
        case when inv.deleted then 'deleted' when inv.voided then 'voided' else 'live' end as status,
        inv.credit_memo_total is not null as credited,
        -- Home amount: QBO's HomeTotalAmt; else the invoice's own ExchangeRate; else the configured rate.
        coalesce(
            inv.home_total_amt,
            case when inv.currency = %(home)s then inv.total_amt end,
            round(inv.total_amt * inv.exchange_rate, 2),
            round(inv.total_amt * (%(rates)s::jsonb ->> inv.currency)::numeric, 2)
        ) as home_total,
        coalesce(
            case when inv.currency = %(home)s then 1::numeric end,
            inv.exchange_rate,
            inv.home_total_amt / nullif(inv.total_amt, 0),
            (%(rates)s::jsonb ->> inv.currency)::numeric
        ) as home_rate
    from invoice inv
)
-- Per referenced opportunity: the invoice an opportunity row carries (its first live invoice,
-- else its first invoice: link_rank 1), the order of its live invoices, and how many there are.
select
    c.*,
    case when c.opportunity_ref is not null then
        row_number() over (partition by c.opportunity_ref order by c.live desc, c.id_key) end as link_rank,
    case when c.opportunity_ref is not null then
        row_number() over (partition by c.opportunity_ref, c.live order by c.id_key) end as live_rank,
    case when c.opportunity_ref is not null then
        count(*) over (partition by c.opportunity_ref) end as linked_count,
    case when c.opportunity_ref is not null then
        count(*) filter (where c.live) over (partition by c.opportunity_ref) end as live_count
from classified c;

create index on rpt_invoice (opportunity_ref);
create index on rpt_invoice (txn_date);
create index on rpt_invoice (id);
analyze rpt_invoice;

create temp table rpt_opportunity on commit drop as
with line_items as (
    select opportunity_id, count(*) as n
    from staging.sf_opportunity_line_item
    where not _deleted and not coalesce(is_deleted, false)
    group by opportunity_id
)
select
    o.id,
    o.name,
    o.stage_name,
    o.account_id,
    a.name as account_name,
    o.owner_id,
    u.name as owner_name,
    o.close_date,
    coalesce(o.amount, 0) as amount,
    coalesce(o.currency_iso_code, %(home)s) as currency,
    (%(rates)s::jsonb ->> coalesce(o.currency_iso_code, %(home)s))::numeric as rate,
    round(coalesce(o.amount, 0) * (%(rates)s::jsonb ->> coalesce(o.currency_iso_code, %(home)s))::numeric, 2)
        as amount_home,
    coalesce(li.n, 0)::integer as line_items,
    -- Closed Won = IsWon and not deleted (rules.py); deleted opportunities stay for invoice rows.
    coalesce(o.is_won, false) and not o._deleted and not coalesce(o.is_deleted, false) as closed_won
from staging.sf_opportunity o
left join staging.sf_account a on a.id = o.account_id and not a._deleted and not coalesce(a.is_deleted, false)
left join staging.sf_user u on u.id = o.owner_id and not u._deleted
left join line_items li on li.opportunity_id = o.id;

create index on rpt_opportunity (id);
create index on rpt_opportunity (close_date);
analyze rpt_opportunity;
