-- Merge one page from the temporary table {tmp} into staging.{table}.
-- Unchanged rows are left alone (so a rerun with no source change writes nothing), and
-- `xmax = 0` tells a fresh insert from an update.
insert into staging.{table} as t ({columns}, raw, _extracted_at, _run_id, _deleted)
select {select_list}, {raw_expr}, now(), %(run_id)s, {deleted_expr}
from {tmp} as src
on conflict (id) do update set
    {assignments}, raw = excluded.raw, _extracted_at = excluded._extracted_at,
    _run_id = excluded._run_id, _deleted = excluded._deleted
where t.raw is distinct from excluded.raw or t._deleted is distinct from excluded._deleted
returning t.id, (xmax = 0) as inserted, _deleted as deleted
