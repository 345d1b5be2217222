-- The loads record an opportunity changed after its invoice exists (sync.invoice_drift) rather
-- than rewrite the invoice; the reconciliation row says so, so finance sees why it differs.
alter table report.reconciliation add column if not exists changed_after_invoicing text;
