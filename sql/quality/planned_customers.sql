-- QBO customer writes about to be made: the loads stage's sync.planned_customer_check (contract
-- in expectations/README.md), plus `held_upstream`: the staging quarantines holding back the
-- write's sources (the Salesforce account it comes from, the QBO customer an update changes),
-- null when none does.
select p.outbox_key,
       p.operation,
       p.account_id,
       p.qb_customer_id,
       p.name_required,
       p.display_name,
       p.planned_name_clashes,
       p.qbo_name_owner,
       p.email,
       p.currency,
       p.unusable_term_id,
       p.missing_update_target,
       p.oversized_fields,
       nullif(concat_ws(', ',
           case when exists (select 1 from sync.open_quarantine q
                             where q.table_name = 'staging.sf_account' and q.record_id = p.account_id)
                then 'staging.sf_account' end,
           case when exists (select 1 from sync.open_quarantine q
                             where q.table_name = 'staging.qb_customer' and q.record_id = p.qb_customer_id)
                then 'staging.qb_customer' end
       ), '') as held_upstream
from sync.planned_customer_check p
