-- The run's Salesforce budget: created by its first Salesforce write step, read by the others.
insert into sync.salesforce_run_budget (run_id, remaining_before, allowed)
values (%(run_id)s, %(remaining)s, %(allowed)s)
on conflict (run_id) do update set run_id = excluded.run_id
returning remaining_before, allowed, spent, (xmax = 0) as created
