-- Account -> QBO customer links decided by the matcher (or created by the loads), strongest first:
-- a person's decision, an existing cross-reference, a customer we created, then scores.
select x.sf_account_id, x.qb_customer_id, x.method
from sync.customer_xref x
where x.qb_customer_id is not null
order by x.sf_account_id,
         case x.method when 'human' then 0 when 'manual' then 0 when 'existing_xref' then 1
                       when 'created' then 1 when 'auto' then 2 else 3 end,
         x.qb_customer_id
