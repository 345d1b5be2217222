-- The pending review queue for a spreadsheet: Account <-> Customer pairs first (they hold up
-- invoices), then possible duplicates inside each system; strongest candidates first.
with sf as (
    select id, name,
           concat_ws(' | ', nullif(concat_ws(', ', billing_street, billing_city, billing_postal_code, billing_country), ''),
                     phone, website) as details
    from staging.sf_account
),
qb as (
    select id, coalesce(nullif(company_name, ''), display_name) as name,
           concat_ws(' | ', nullif(concat_ws(', ', bill_line1, bill_line2, bill_city, bill_postal_code, bill_country), ''),
                     phone, email, website) as details
    from staging.qb_customer
)
select * from (
    select 'account_customer' as kind, r.sf_account_id as left_id, coalesce(sf.name, r.sf_name) as left_name,
           r.qb_customer_id as right_id, coalesce(qb.name, r.qb_name) as right_name,
           r.score, r.reason, r.contributions, sf.details as left_details, qb.details as right_details,
           0 as kind_order, r.rank
    from sync.match_review r
    left join sf on sf.id = r.sf_account_id
    left join qb on qb.id = r.qb_customer_id
    where r.status = 'pending'
    union all
    select 'salesforce_duplicate', r.left_id, coalesce(l.name, r.left_name), r.right_id, coalesce(rr.name, r.right_name),
           r.score, r.reason, r.contributions, l.details, rr.details, 1, null
    from sync.duplicate_review r
    left join sf l on l.id = r.left_id
    left join sf rr on rr.id = r.right_id
    where r.status = 'pending' and r.system = 'salesforce'
    union all
    select 'qbo_duplicate', r.left_id, coalesce(l.name, r.left_name), r.right_id, coalesce(rr.name, r.right_name),
           r.score, r.reason, r.contributions, l.details, rr.details, 2, null
    from sync.duplicate_review r
    left join qb l on l.id = r.left_id
    left join qb rr on rr.id = r.right_id
    where r.status = 'pending' and r.system = 'qbo'
) q
order by kind_order, score desc nulls last, left_id, rank nulls last, right_id
