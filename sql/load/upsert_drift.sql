insert into sync.invoice_drift as d (sf_opportunity_id, qb_invoice_id, field, sf_value, qb_value, action)
values (%(opp)s, %(invoice)s, %(field)s, %(sf_value)s, %(qb_value)s, %(action)s)
on conflict (sf_opportunity_id, qb_invoice_id, field) do update set
    sf_value     = excluded.sf_value,
    qb_value     = excluded.qb_value,
    action       = excluded.action,
    last_seen_at = now(),
    resolved_at  = null
