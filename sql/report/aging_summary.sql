-- Receivables at month end by bucket in home currency, and days sales outstanding:
-- DSO = receivables at month end / credit sales of the month (live invoices dated in it, in
-- home currency) x days in the month. Empty when the month has no credit sales.
--
-- Parameters: %(month)s, %(as_of)s, %(start)s, %(next)s, %(home)s. Reads rpt_invoice_all.

insert into report.aging_summary
    (month, as_of_date, aged_from, home_currency, open_invoices, current_home, days_1_30_home, days_31_60_home,
     days_61_90_home, days_91_plus_home, receivables_home, credit_sales_home, days_in_period, dso_days)
with receivables as (
    select
        count(*)::integer as open_invoices,
        coalesce(sum(open_balance_home) filter (where bucket = 'Current'), 0) as current_home,
        coalesce(sum(open_balance_home) filter (where bucket = '1-30'), 0) as days_1_30_home,
        coalesce(sum(open_balance_home) filter (where bucket = '31-60'), 0) as days_31_60_home,
        coalesce(sum(open_balance_home) filter (where bucket = '61-90'), 0) as days_61_90_home,
        coalesce(sum(open_balance_home) filter (where bucket = '91+'), 0) as days_91_plus_home,
        coalesce(sum(open_balance_home), 0) as receivables_home
    from report.aging_invoice
    where month = %(month)s
),
sales as (
    select coalesce(sum(home_total), 0) as credit_sales_home
    from rpt_invoice_all
    where live and txn_date >= %(start)s and txn_date < %(next)s
)
select
    %(month)s, %(as_of)s, 'due_date', %(home)s, r.open_invoices,
    r.current_home, r.days_1_30_home, r.days_31_60_home, r.days_61_90_home, r.days_91_plus_home,
    r.receivables_home, s.credit_sales_home, %(next)s::date - %(start)s::date,
    case when s.credit_sales_home > 0
         then round(r.receivables_home / s.credit_sales_home * (%(next)s::date - %(start)s::date), 2) end
from receivables r cross join sales s;
