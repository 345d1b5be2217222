-- Closed Won and Invoiced per opportunity owner for one month; invoices that refer to no known
-- opportunity are grouped under "(no opportunity owner)".
--
-- Parameters: %(month)s.

insert into report.bridge_by_owner
    (month, position, owner_id, owner_name, rows, closed_won_home, invoiced_home, variance_home)
with grouped as (
    select
        owner_id,
        coalesce(max(owner_name), case when owner_id is null then '(no opportunity owner)' end, owner_id)
            as owner_name,
        count(*)::integer as rows,
        sum(closed_won_home) as closed_won_home,
        sum(invoiced_home) as invoiced_home
    from report.reconciliation
    where month = %(month)s
    group by owner_id
)
select
    %(month)s,
    row_number() over (order by owner_id is null, lower(owner_name), owner_id),
    owner_id,
    owner_name,
    rows,
    closed_won_home,
    invoiced_home,
    invoiced_home - closed_won_home
from grouped;
