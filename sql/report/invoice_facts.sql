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
        substring(i.private_note from %(ref_pattern)s) as opportunity_ref,
        null::jsonb as created_lines
    from staging.qb_invoice i
    union all
    -- Invoices LedgerLink created after QBO was last extracted (the nightly's loads run after
    -- its extract, and month-end follows the nightly): QBO's own answer to the create, kept in
    -- sync.invoice_xref, stands in until the next extract brings the invoice into staging.
    select
        x.qb_invoice_id,
        case when x.qb_invoice_id ~ '^[0-9]+$' then lpad(x.qb_invoice_id, 30, '0') else x.qb_invoice_id end,
        e ->> 'DocNumber',
        e -> 'CustomerRef' ->> 'value',
        e -> 'CustomerRef' ->> 'name',
        (e ->> 'TxnDate')::date,
        (e ->> 'DueDate')::date,
        coalesce((e ->> 'TotalAmt')::numeric(18, 2), 0),
        (e ->> 'Balance')::numeric(18, 2),
        coalesce(e -> 'CurrencyRef' ->> 'value', %(home)s),
        (e ->> 'ExchangeRate')::numeric(18, 6),
        (e ->> 'HomeTotalAmt')::numeric(18, 2),
        false,
        (coalesce((e ->> 'TotalAmt')::numeric, 0) = 0 and starts_with(coalesce(e ->> 'PrivateNote', ''), 'Voided')),
        substring(e ->> 'PrivateNote' from %(ref_pattern)s),
        e -> 'Line'
    from sync.invoice_xref x
    cross join lateral (select x.entity as e) created
    where x.entity is not null
      and not exists (select 1 from staging.qb_invoice i where i.id = x.qb_invoice_id)
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
