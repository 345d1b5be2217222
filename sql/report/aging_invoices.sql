-- Open invoices at the month's last day, aged from the due date (QuickBooks' convention; the
-- invoice date when an invoice has no due date). The open balance at that date is QBO's current
-- Balance plus the payments applied to the invoice after it, never more than the invoice total,
-- so a past month can be re-run later and still show what was open then.
--
-- Parameters: %(month)s, %(as_of)s the month's last day. Reads rpt_invoice_all (invoice_facts.sql).

insert into report.aging_invoice
    (month, as_of_date, qbo_invoice_id, invoice_doc_number, qbo_customer_id, customer_name, txn_date, due_date,
     currency, exchange_rate, invoice_total, open_balance, open_balance_home, aged_from, days_past_due, bucket)
with paid_later as (
    select pl.linked_txn_id as invoice_id, sum(pl.amount) as amount
    from staging.qb_payment_line pl
    join staging.qb_payment p on p.id = pl.parent_id
    where not p._deleted and not pl._deleted
      and pl.linked_txn_type = 'Invoice'
      and p.txn_date > %(as_of)s
    group by pl.linked_txn_id
),
open_at_month_end as (
    select
        i.*,
        greatest(least(i.total_amt, coalesce(i.balance, i.total_amt) + coalesce(p.amount, 0)), 0) as open_balance,
        %(as_of)s::date - coalesce(i.due_date, i.txn_date) as days_past_due
    from rpt_invoice_all i
    left join paid_later p on p.invoice_id = i.id
    where i.live and i.txn_date <= %(as_of)s
)
select
    %(month)s,
    %(as_of)s,
    o.id,
    o.doc_number,
    o.customer_id,
    coalesce(c.display_name, o.customer_ref_name),
    o.txn_date,
    o.due_date,
    o.currency,
    o.home_rate,
    o.total_amt,
    o.open_balance,
    round(o.open_balance * o.home_rate, 2),
    'due_date',
    o.days_past_due,
    case
        when o.days_past_due <= 0 then 'Current'
        when o.days_past_due <= 30 then '1-30'
        when o.days_past_due <= 60 then '31-60'
        when o.days_past_due <= 90 then '61-90'
        else '91+'
    end
from open_at_month_end o
left join staging.qb_customer c on c.id = o.customer_id and not c._deleted
where o.open_balance > 0;
