-- Account -> QBO customer links decided by the matcher (or created by the loads).
select x.sf_account_id, x.qb_customer_id, x.method
from sync.customer_xref x
where x.qb_customer_id is not null
order by x.sf_account_id,
         case x.method when 'manual' then 0 when 'created' then 2 else 1 end,
         x.qb_customer_id
