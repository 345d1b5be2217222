"""Schedules: 2 AM nightly, and the month-end close on the 1st after the nightly run."""

import dagster as dg

from ledgerlink.config import settings
from pipelines.jobs import month_end_job, nightly_job

_schedule = settings().schedule


@dg.schedule(
    job=nightly_job,
    cron_schedule=_schedule.cron,
    execution_timezone=_schedule.timezone,
    description="Nightly extract, match, validate and load, off-peak.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    run_date = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=run_date, partition_key=run_date)


# 04:00 on the 1st, for the month just ended: after the 2 AM nightly run has loaded it.
month_end_schedule = dg.build_schedule_from_partitioned_job(
    month_end_job, hour_of_day=4, minute_of_hour=0, name="month_end_schedule"
)
