-- Aging per customer and currency (a QBO customer bills in one currency; amounts are never
-- summed across currencies), with the customer's total in home currency.
--
-- Parameters: %(month)s, %(as_of)s.

insert into report.aging_customer
    (month, position, as_of_date, aged_from, qbo_customer_id, customer_name, currency, open_invoices,
     bucket_current, bucket_1_30, bucket_31_60, bucket_61_90, bucket_91_plus, total, total_home)
with grouped as (
    select
        qbo_customer_id,
        max(customer_name) as customer_name,
        currency,
        count(*)::integer as open_invoices,
        coalesce(sum(open_balance) filter (where bucket = 'Current'), 0) as bucket_current,
        coalesce(sum(open_balance) filter (where bucket = '1-30'), 0) as bucket_1_30,
        coalesce(sum(open_balance) filter (where bucket = '31-60'), 0) as bucket_31_60,
        coalesce(sum(open_balance) filter (where bucket = '61-90'), 0) as bucket_61_90,
        coalesce(sum(open_balance) filter (where bucket = '91+'), 0) as bucket_91_plus,
        sum(open_balance) as total,
        sum(open_balance_home) as total_home
    from report.aging_invoice
    where month = %(month)s
    group by qbo_customer_id, currency
)
select
    %(month)s,
    row_number() over (order by lower(customer_name), customer_name, qbo_customer_id, currency),
    %(as_of)s,
    'due_date',
    qbo_customer_id,
    customer_name,
    currency,
    open_invoices,
    bucket_current,
    bucket_1_30,
    bucket_31_60,
    bucket_61_90,
    bucket_91_plus,
    total,
    total_home
from grouped;
