-- The opportunities and invoices one month's reconciliation touches, with what the rules need,
-- in two temporary tables dropped when the build's transaction ends:
--   rpt_opportunity  Closed Won opportunities closed in the month, and every opportunity an
--                    invoice dated in the month refers to;
--   rpt_invoice      invoices dated in the month, and every invoice that refers to one of
--                    those opportunities (so "first live invoice" sees all of them).
-- Only this slice is joined to line items, lines and credit memos, which keeps a month of a
-- large company fast.
--
-- Parameters: %(home)s, %(rates)s, %(start)s, %(next)s. Reads rpt_invoice_all (invoice_facts.sql).

drop table if exists pg_temp.rpt_invoice;
drop table if exists pg_temp.rpt_opportunity;

create temp table rpt_opportunity on commit drop as
with in_scope as (
    select o.id
    from staging.sf_opportunity o
    where o.close_date >= %(start)s and o.close_date < %(next)s
    union
    select opportunity_ref
    from rpt_invoice_all
    where txn_date >= %(start)s and txn_date < %(next)s and opportunity_ref is not null
),
line_items as (
    select li.opportunity_id, count(*) as n
    from staging.sf_opportunity_line_item li
    where li.opportunity_id in (select id from in_scope)
      and not li._deleted and not coalesce(li.is_deleted, false)
    group by li.opportunity_id
)
select
    o.id,
    o.name,
    o.stage_name,
    o.account_id,
    a.name as account_name,
    o.owner_id,
    u.name as owner_name,
    o.close_date,
    coalesce(o.amount, 0) as amount,
    coalesce(o.currency_iso_code, %(home)s) as currency,
    (%(rates)s::jsonb ->> coalesce(o.currency_iso_code, %(home)s))::numeric as rate,
    round(coalesce(o.amount, 0) * (%(rates)s::jsonb ->> coalesce(o.currency_iso_code, %(home)s))::numeric, 2)
        as amount_home,
    coalesce(li.n, 0)::integer as line_items,
    -- Closed Won = IsWon and not deleted (rules.py); deleted ones stay for the invoices that name them.
    coalesce(o.is_won, false) and not o._deleted and not coalesce(o.is_deleted, false) as closed_won
from staging.sf_opportunity o
left join staging.sf_account a on a.id = o.account_id and not a._deleted and not coalesce(a.is_deleted, false)
left join staging.sf_user u on u.id = o.owner_id and not u._deleted
left join line_items li on li.opportunity_id = o.id
where o.id in (select id from in_scope);

create unique index on rpt_opportunity (id);

create temp table rpt_invoice on commit drop as
with refs as (
    select id as opportunity_ref from rpt_opportunity
    where closed_won and close_date >= %(start)s and close_date < %(next)s
    union
    select opportunity_ref from rpt_invoice_all
    where txn_date >= %(start)s and txn_date < %(next)s and opportunity_ref is not null
),
in_scope as (
    select * from rpt_invoice_all
    where (txn_date >= %(start)s and txn_date < %(next)s)
       or opportunity_ref in (select opportunity_ref from refs)
),
sales_lines as (
    select l.parent_id, count(*) as n
    from staging.qb_invoice_line l
    where l.parent_id in (select id from in_scope)
      and not l._deleted and l.detail_type = 'SalesItemLineDetail'
    group by l.parent_id
),
credit as (
    select m.invoice_id, sum(m.total_amt) as total
    from staging.qb_credit_memo m
    where not m._deleted and m.invoice_id in (select id from in_scope)
    group by m.invoice_id
)
-- Per referenced opportunity: the invoice an opportunity row carries (its first live invoice,
-- else its first invoice: link_rank 1), the order of its live invoices, and how many there are.
select
    s.*,
    coalesce(c.display_name, s.customer_ref_name) as customer_name,
    coalesce(sl.n, 0)::integer as sales_lines,
    cr.total as credit_memo_total,
    cr.total is not null as credited,
    case when s.opportunity_ref is not null then
        row_number() over (partition by s.opportunity_ref order by s.live desc, s.id_key) end as link_rank,
    case when s.opportunity_ref is not null then
        row_number() over (partition by s.opportunity_ref, s.live order by s.id_key) end as live_rank,
    case when s.opportunity_ref is not null then
        count(*) over (partition by s.opportunity_ref) end as linked_count,
    case when s.opportunity_ref is not null then
        count(*) filter (where s.live) over (partition by s.opportunity_ref) end as live_count
from in_scope s
left join staging.qb_customer c on c.id = s.customer_id and not c._deleted
left join sales_lines sl on sl.parent_id = s.id
left join credit cr on cr.invoice_id = s.id;

create index on rpt_invoice (opportunity_ref);
create unique index on rpt_invoice (id);
