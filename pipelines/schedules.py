"""Schedules: 2 AM nightly, and the month-end close on the 1st after the nightly run."""

from datetime import timedelta

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


@dg.schedule(
    job=month_end_job,
    cron_schedule="0 4 1 * *",
    execution_timezone=_schedule.timezone,
    description="Month-end reconciliation for the month just ended, after that night's 2 AM run.",
)
def month_end_schedule(context: dg.ScheduleEvaluationContext):
    first_of_this_month = context.scheduled_execution_time.date().replace(day=1)
    month = (first_of_this_month - timedelta(days=1)).replace(day=1).isoformat()
    return dg.RunRequest(run_key=month, partition_key=month)
