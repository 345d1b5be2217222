"""Schedules: the 2 AM nightly run.

The month-end close has no schedule: it follows the nightly run's success (see
`pipelines.sensors.month_end_after_nightly`, which says why a cron would be wrong).
"""

import dagster as dg

from ledgerlink.config import settings
from pipelines.jobs import nightly_job

_schedule = settings().schedule


# RUNNING by default: the nightly batch is the product, so it must fire from the first night after
# install, not only after someone finds the toggle in the UI.
@dg.schedule(
    job=nightly_job,
    cron_schedule=_schedule.cron,
    execution_timezone=_schedule.timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly extract, match, validate and load, off-peak.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    run_date = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=run_date, partition_key=run_date)
