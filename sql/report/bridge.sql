-- The bridge of one month: Closed Won total -> each category's effect -> Invoiced total.
-- Every row of the month carries closed_won_home and invoiced_home, each amount counted once,
-- so Closed Won total + sum of the effects = Invoiced total to the cent.
--
-- Parameters: %(month)s, %(categories)s (rules.Category order), %(home)s, %(start)s, %(next)s.

insert into report.bridge
    (month, position, line, rows, closed_won_home, invoiced_home, amount_home, running_home, home_currency)
with rows_of_month as (
    select * from report.reconciliation where month = %(month)s
),
category as (
    select c.category, c.position::integer as position
    from unnest(%(categories)s::text[]) with ordinality as c(category, position)
),
per_category as (
    select
        c.position,
        c.category,
        count(r.row_no)::integer as rows,
        coalesce(sum(r.closed_won_home), 0) as closed_won_home,
        coalesce(sum(r.invoiced_home), 0) as invoiced_home
    from category c
    left join rows_of_month r on r.category = c.category
    group by c.position, c.category
),
total as (
    select
        count(*) filter (where row_kind = 'opportunity')::integer as opportunities,
        count(*) filter (where invoice_status = 'live'
                         and invoice_txn_date >= %(start)s and invoice_txn_date < %(next)s)::integer as invoices,
        coalesce(sum(closed_won_home), 0) as closed_won_home,
        coalesce(sum(invoiced_home), 0) as invoiced_home
    from rows_of_month
)
select %(month)s, 0, 'Closed Won total', t.opportunities, t.closed_won_home, 0, t.closed_won_home,
       t.closed_won_home, %(home)s
from total t
union all
select %(month)s, p.position, p.category, p.rows, p.closed_won_home, p.invoiced_home,
       p.invoiced_home - p.closed_won_home,
       t.closed_won_home + sum(p.invoiced_home - p.closed_won_home) over (order by p.position),
       %(home)s
from per_category p cross join total t
union all
select %(month)s, cardinality(%(categories)s::text[]) + 1, 'Invoiced total', t.invoices, 0, t.invoiced_home,
       t.invoiced_home, t.invoiced_home, %(home)s
from total t;
