update sync.salesforce_run_budget set spent = spent + %(calls)s where run_id = %(run_id)s
