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
drop table if exists pg_temp.rpt_invoice_ref;
drop table if exists pg_temp.rpt_invoice_scope;

-- One pass over all invoices to read their opportunity references (the only full scan of
-- staging.qb_invoice; everything below looks invoices up by Id).
create temp table rpt_invoice_ref on commit drop as
select id, opportunity_ref, (txn_date >= %(start)s and txn_date < %(next)s) as in_month
from rpt_invoice_all
where opportunity_ref is not null or (txn_date >= %(start)s and txn_date < %(next)s);


create temp table rpt_opportunity on commit drop as
with in_scope as (
    select o.id
    from staging.sf_opportunity o
    where o.close_date >= %(start)s and o.close_date < %(next)s
    union
    select opportunity_ref from rpt_invoice_ref where in_month and opportunity_ref is not null
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
    (select a.name from staging.sf_account a
      where a.id = o.account_id and not a._deleted and not coalesce(a.is_deleted, false)) as account_name,
    o.owner_id,
    (select u.name from staging.sf_user u where u.id = o.owner_id and not u._deleted) as owner_name,
    o.close_date,
    coalesce(o.amount, 0) as amount,
    coalesce(o.currency_iso_code, %(home)s) as currency,
    (%(rates)s::jsonb ->> coalesce(o.currency_iso_code, %(home)s))::numeric as rate,
    round(coalesce(o.amount, 0) * (%(rates)s::jsonb ->> coalesce(o.currency_iso_code, %(home)s))::numeric, 2)
        as amount_home,
    coalesce(li.n, 0)::integer as line_items,
    -- Closed Won = IsWon and not deleted (rules.py); deleted ones stay for the invoices that name them.
    coalesce(o.is_won, false) and not o._deleted and not coalesce(o.is_deleted, false) as closed_won
from in_scope s
-- Look each opportunity up by Id rather than scan the table again (the LIMIT keeps the
-- planner from turning the lookup back into a join over the whole table).
cross join lateral (select * from staging.sf_opportunity x where x.id = s.id limit 1) o
left join line_items li on li.opportunity_id = o.id;

create unique index on rpt_opportunity (id);

-- Invoices of the month, and every invoice referring to an opportunity of the month.
create temp table rpt_invoice_scope on commit drop as
select id from rpt_invoice_ref where in_month
union
select r.id
from rpt_invoice_ref r
where r.opportunity_ref in (
    select id from rpt_opportunity where closed_won and close_date >= %(start)s and close_date < %(next)s
    union
    select opportunity_ref from rpt_invoice_ref where in_month and opportunity_ref is not null
);

create temp table rpt_invoice on commit drop as
with in_scope as (
    select v.*
    from rpt_invoice_scope s
    cross join lateral (select * from rpt_invoice_all a where a.id = s.id limit 1) v  -- by Id, as above
),
credit as (
    select m.invoice_id, sum(m.total_amt) as total
    from staging.qb_credit_memo m
    where not m._deleted and m.invoice_id in (select id from rpt_invoice_scope)
    group by m.invoice_id
)
-- Per referenced opportunity: the invoice an opportunity row carries (its first live invoice,
-- else its first invoice: link_rank 1), the order of its live invoices, and how many there are.
select
    s.*,
    coalesce(
        (select c.display_name from staging.qb_customer c where c.id = s.customer_id and not c._deleted),
        s.customer_ref_name
    ) as customer_name,
    case
        when s.created_lines is not null then  -- created since the last extract: QBO's answer
            (select count(*) from jsonb_array_elements(s.created_lines) l
              where l ->> 'DetailType' = 'SalesItemLineDetail')
        else
            (select count(*) from staging.qb_invoice_line l
              where l.parent_id = s.id and not l._deleted and l.detail_type = 'SalesItemLineDetail')
    end::integer as sales_lines,
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
left join credit cr on cr.invoice_id = s.id;

create index on rpt_invoice (opportunity_ref);
create unique index on rpt_invoice (id);
