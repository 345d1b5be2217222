-- After a full load: whatever the source no longer has was hard-deleted there.
update staging.{table} as t
set _deleted = true, _run_id = %(run_id)s, _extracted_at = now()
where not t._deleted
  and not exists (select 1 from {seen} as s where s.id = t.id)
