-- Differences of checked opportunities that are gone now (fixed on either side).
update sync.invoice_drift d
set resolved_at = now()
where d.resolved_at is null
  and d.sf_opportunity_id = any(%(checked)s)
  and d.sf_opportunity_id || '|' || d.qb_invoice_id || '|' || d.field <> all(%(seen)s)
