-- Invoices about to be written to QBO: the loads stage's sync.planned_invoice_check (contract in
-- expectations/README.md), plus `held_upstream`: the staging quarantines holding back the
-- invoice's sources (its opportunity, the opportunity's Salesforce account, or the QBO customer
-- it is for), null when none does.
-- So a deal whose staging rows failed a row-level check is not invoiced while it is held, and
-- its invoice goes out on the run after the source is fixed and released.
select p.opportunity_id,
       p.customer_id,
       p.display_name,
       p.doc_number,
       p.line_count,
       p.unmapped_item_count,
       p.total_amt,
       p.currency,
       p.existing_invoice_id,
       nullif(concat_ws(', ',
           case when exists (select 1 from sync.open_quarantine q
                             where q.table_name = 'staging.sf_opportunity' and q.record_id = p.opportunity_id)
                then 'staging.sf_opportunity' end,
           -- The account the invoice's customer comes from (two accounts claiming one QBO
           -- customer, an account with no name): which customer to bill is in doubt.
           case when exists (select 1 from staging.sf_opportunity o
                             join sync.open_quarantine q
                               on q.table_name = 'staging.sf_account' and q.record_id = o.account_id
                             where o.id = p.opportunity_id)
                then 'staging.sf_account' end,
           case when exists (select 1 from sync.open_quarantine q
                             where q.table_name = 'staging.qb_customer' and q.record_id = p.customer_id)
                then 'staging.qb_customer' end
       ), '') as held_upstream
from sync.planned_invoice_check p
