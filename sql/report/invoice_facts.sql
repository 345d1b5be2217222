-- Every QBO invoice with what the rules (ledgerlink/reconcile/rules.py) need to know about it:
-- a temporary view, so the reconciliation and the aging read one definition and Postgres
-- still pushes their date filters down to staging.qb_invoice.
--
-- Parameters (bound client-side into the view's text): %(home)s home currency, %(rates)s
-- jsonb {currency: home units per unit}, %(ref_pattern)s rules.OPPORTUNITY_REF in Postgres syntax.

drop view if exists pg_temp.rpt_invoice_all cascade;

create temp view rpt_invoice_all as
with invoice as (
    select
        i.id,
        -- QBO Ids are numbers in text: "lowest Id" compares them as numbers.
        case when i.id ~ '^[0-9]+$' then lpad(i.id, 30, '0') else i.id end as id_key,
        i.doc_number,
        i.customer_id,
        i.customer_name as customer_ref_name,
        i.txn_date,
        i.due_date,
        coalesce(i.total_amt, 0) as total_amt,
        i.balance,
        coalesce(i.currency, %(home)s) as currency,
        i.exchange_rate,
        i.home_total_amt,
        i._deleted as deleted,
        -- THE voided predicate: QBO keeps a voided invoice with TotalAmt 0 and a PrivateNote
        -- starting with "Voided". Everything else reads `voided`, `live` and `status` from here.
        (coalesce(i.total_amt, 0) = 0 and starts_with(coalesce(i.private_note, ''), 'Voided')) as voided,
        substring(i.private_note from %(ref_pattern)s) as opportunity_ref
    from staging.qb_invoice i
)
select
    inv.*,
    not inv.deleted and not inv.voided as live,
    case when inv.deleted then 'deleted' when inv.voided then 'voided' else 'live' end as status,
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
from invoice inv;
