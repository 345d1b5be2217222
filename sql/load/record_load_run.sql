insert into sync.load_run (run_id, step, partition_key, finished_at, counts, alerts)
values (%(run_id)s, %(step)s, %(partition_key)s, now(), %(counts)s, %(alerts)s)
