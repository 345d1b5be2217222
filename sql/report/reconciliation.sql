-- The reconciliation rows of one month, per ledgerlink/reconcile/rules.py; the numbers in the
-- comments are the rules' numbers. Reads the facts built by month_facts.sql.
--
-- Parameters: %(month)s 'YYYY-MM', %(start)s first day, %(next)s first day of the next month,
-- %(tolerance)s, %(home)s.

insert into report.reconciliation (
    month, row_no, row_kind, category,
    sf_opportunity_id, opportunity_name, opportunity_stage, sf_account_id, account_name, owner_id, owner_name,
    close_date, opp_currency, opp_amount, opp_rate, opp_amount_home, opp_line_items,
    match_method, linked_invoices, live_linked_invoices,
    qbo_invoice_id, invoice_doc_number, qbo_customer_id, customer_name, customer_linked, invoice_status,
    invoice_txn_date, invoice_due_date, invoice_currency, invoice_exchange_rate, invoice_total, invoice_balance,
    invoice_total_home, invoice_sales_lines, credit_memo_total,
    variance, days_close_to_invoice, closed_won_home, invoiced_home, variance_home, changed_after_invoicing
)
with xref as (
    select distinct sf_account_id, qb_customer_id from sync.customer_xref
),
-- One row per Closed Won opportunity closed in the month, carrying its link_rank-1 invoice.
opportunity_rows as (
    select
        1 as kind_order,
        'opportunity' as row_kind,
        case
            when i.id is null                                  then 'NOT_INVOICED'          --  1
            when i.live_count = 0                              then 'VOIDED_OR_DELETED'     --  2
            when i.live_count >= 2                             then 'DUPLICATE_INVOICE'     --  3
            when x.sf_account_id is null                       then 'CUSTOMER_MISMATCH'     --  4
            when i.currency <> o.currency                      then 'CURRENCY_DIFFERENCE'   --  5
            when i.credited                                    then 'CREDITED'              --  6
            when i.total_amt < o.amount - %(tolerance)s
                 and i.sales_lines < o.line_items              then 'PARTIALLY_INVOICED'    --  7
            when abs(i.total_amt - o.amount) > %(tolerance)s   then 'AMOUNT_MISMATCH'       --  8
            when i.txn_date is null
                 or i.txn_date < %(start)s or i.txn_date >= %(next)s
                                                               then 'TIMING_DIFFERENCE'     --  9
            else 'MATCHED'                                                                  -- 10
        end as category,
        o.id as opportunity_id,
        o.amount_home as closed_won_home,
        case when i.live and i.txn_date >= %(start)s and i.txn_date < %(next)s
             then i.home_total else 0 end as invoiced_home,
        case when i.id is not null then x.sf_account_id is not null end as customer_linked,
        i.id as invoice_id,
        o.close_date as sort_date
    from rpt_opportunity o
    left join rpt_invoice i on i.opportunity_ref = o.id and i.link_rank = 1
    left join xref x on x.sf_account_id = o.account_id and x.qb_customer_id = i.customer_id
    where o.closed_won and o.close_date >= %(start)s and o.close_date < %(next)s
),
-- One row per invoice dated in the month that no opportunity row of the month carries.
invoice_rows as (
    select
        2 as kind_order,
        'invoice' as row_kind,
        case
            when not i.live                                    then 'VOIDED_OR_DELETED'             -- 1
            when i.opportunity_ref is not null and i.live_rank > 1
                                                               then 'DUPLICATE_INVOICE'             -- 2
            when coalesce(o.closed_won, false)
                 and (o.close_date is null or o.close_date < %(start)s or o.close_date >= %(next)s)
                                                               then 'TIMING_DIFFERENCE'             -- 3
            else 'INVOICED_WITHOUT_OPPORTUNITY'                                                     -- 4
        end as category,
        i.opportunity_ref as opportunity_id,
        0::numeric as closed_won_home,  -- an opportunity is counted once, on its own row
        case when i.live then i.home_total else 0 end as invoiced_home,
        case when o.id is not null then x.sf_account_id is not null end as customer_linked,
        i.id as invoice_id,
        i.txn_date as sort_date
    from rpt_invoice i
    left join rpt_opportunity o on o.id = i.opportunity_ref
    left join xref x on x.sf_account_id = o.account_id and x.qb_customer_id = i.customer_id
    where i.txn_date >= %(start)s and i.txn_date < %(next)s
      and not coalesce(
          i.link_rank = 1 and o.closed_won and o.close_date >= %(start)s and o.close_date < %(next)s, false)
),
all_rows as (
    select * from opportunity_rows
    union all
    select * from invoice_rows
)
select
    %(month)s,
    row_number() over (order by r.kind_order, r.sort_date nulls last, r.opportunity_id nulls last, i.id_key),
    r.row_kind,
    r.category,
    r.opportunity_id,
    o.name,
    o.stage_name,
    o.account_id,
    o.account_name,
    o.owner_id,
    o.owner_name,
    o.close_date,
    o.currency,
    o.amount,
    o.rate,
    o.amount_home,
    o.line_items,
    case when i.opportunity_ref is not null then 'opportunity_id_in_private_note' end,
    case when r.opportunity_id is not null then coalesce(i.linked_count, 0) end,
    case when r.opportunity_id is not null then coalesce(i.live_count, 0) end,
    i.id,
    i.doc_number,
    i.customer_id,
    i.customer_name,
    r.customer_linked,
    i.status,
    i.txn_date,
    i.due_date,
    i.currency,
    i.home_rate,
    i.total_amt,
    i.balance,
    i.home_total,
    i.sales_lines,
    i.credit_memo_total,
    case when i.id is not null and o.id is not null and i.currency = o.currency then i.total_amt - o.amount end,
    i.txn_date - o.close_date,
    r.closed_won_home,
    r.invoiced_home,
    r.invoiced_home - r.closed_won_home,
    -- What the loads saw change on the opportunity after its invoice existed (not rewritten).
    (select string_agg(format('%%s: Salesforce %%s, QBO %%s', d.field, coalesce(d.sf_value, '(none)'),
                              coalesce(d.qb_value, '(none)')), '; ' order by d.field)
       from sync.invoice_drift d
      where d.sf_opportunity_id = r.opportunity_id and d.qb_invoice_id = i.id and d.resolved_at is null)
from all_rows r
left join rpt_opportunity o on o.id = r.opportunity_id
left join rpt_invoice i on i.id = r.invoice_id;
