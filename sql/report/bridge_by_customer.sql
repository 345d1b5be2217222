-- Closed Won and Invoiced per customer for one month. A row with an opportunity belongs to the
-- opportunity's account; an invoice without one belongs to the Salesforce account its QBO
-- customer is linked to (sync.customer_xref), else to the QBO customer itself.
--
-- Parameters: %(month)s.

insert into report.bridge_by_customer
    (month, position, sf_account_id, qbo_customer_id, customer_name, rows, closed_won_home, invoiced_home,
     variance_home)
with linked as (
    select
        r.*,
        coalesce(
            r.sf_account_id,
            (select min(x.sf_account_id) from sync.customer_xref x where x.qb_customer_id = r.qbo_customer_id)
        ) as account_id
    from report.reconciliation r
    where r.month = %(month)s
),
keyed as (
    select
        account_id as sf_account_id,
        case when account_id is null then qbo_customer_id end as qbo_customer_id,
        coalesce(account_name, customer_name) as row_name,
        closed_won_home,
        invoiced_home
    from linked
),
grouped as (
    select
        k.sf_account_id,
        k.qbo_customer_id,
        max(k.row_name) as row_name,
        count(*)::integer as rows,
        sum(k.closed_won_home) as closed_won_home,
        sum(k.invoiced_home) as invoiced_home
    from keyed k
    group by k.sf_account_id, k.qbo_customer_id
),
named as (
    select
        g.*,
        coalesce(
            (select a.name from staging.sf_account a where a.id = g.sf_account_id and not a._deleted),
            g.row_name,
            '(no customer)'
        ) as customer_name
    from grouped g
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
from named;
