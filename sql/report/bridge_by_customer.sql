-- Closed Won and Invoiced per customer for one month. A row with an opportunity belongs to the
-- opportunity's account; an invoice without one belongs to the Salesforce account its QBO
-- customer is linked to (sync.customer_xref), else to the QBO customer itself.
--
-- Parameters: %(month)s.

insert into report.bridge_by_customer
    (month, position, sf_account_id, qbo_customer_id, customer_name, rows, closed_won_home, invoiced_home,
     variance_home)
with account_of_customer as (
    select qb_customer_id, min(sf_account_id) as sf_account_id
    from sync.customer_xref
    group by qb_customer_id
),
keyed as (
    select
        coalesce(r.sf_account_id, x.sf_account_id) as sf_account_id,
        case when coalesce(r.sf_account_id, x.sf_account_id) is null then r.qbo_customer_id end as qbo_customer_id,
        coalesce(r.account_name, r.customer_name) as row_name,
        r.closed_won_home,
        r.invoiced_home
    from report.reconciliation r
    left join account_of_customer x on r.sf_account_id is null and x.qb_customer_id = r.qbo_customer_id
    where r.month = %(month)s
),
grouped as (
    select
        k.sf_account_id,
        k.qbo_customer_id,
        coalesce(max(a.name), max(k.row_name), '(no customer)') as customer_name,
        count(*)::integer as rows,
        sum(k.closed_won_home) as closed_won_home,
        sum(k.invoiced_home) as invoiced_home
    from keyed k
    left join staging.sf_account a on a.id = k.sf_account_id and not a._deleted
    group by k.sf_account_id, k.qbo_customer_id
)
select
    %(month)s,
    row_number() over (order by lower(customer_name), customer_name, sf_account_id, qbo_customer_id),
    sf_account_id,
    qbo_customer_id,
    customer_name,
    rows,
    closed_won_home,
    invoiced_home,
    invoiced_home - closed_won_home
from grouped;
