-- A person's 'link' takes effect at once (the next matching run would do the same).
insert into sync.customer_xref as x (sf_account_id, qb_customer_id, method, score, decided_by, decided_at, note)
values (%(sf)s, %(qb)s, 'human', null, %(by)s, now(), %(note)s)
on conflict (sf_account_id) do update set
    qb_customer_id = excluded.qb_customer_id, method = 'human', score = null,
    decided_by = excluded.decided_by, decided_at = excluded.decided_at, note = excluded.note,
    contributions = null
