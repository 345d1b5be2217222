"""Sensors: the month-end close starts when the nightly run that completes a month succeeds.

The issue asks for the close "the first day of the month, after the nightly run, for the month
just ended". A fixed 4 AM cron only guesses that the 2 AM run is done; a slow or failed nightly
would leave the report built from half-loaded data. So the close follows the nightly run's
success instead, and there is no month-end cron at all: Dagster de-duplicates run keys per
sensor or schedule, not across them, so a cron fallback could start a second close for the same
month; and a fallback that waits for the nightly's success would do nothing this sensor does not
(the sensor keeps an event-log cursor, so runs that finish while the daemon is down are still
seen when it comes back). If that nightly fails, re-executing it (the usual fix, the loads need it
too) closes the month when it succeeds; a past month can always be re-run as a month_end backfill.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from pipelines.jobs import month_end_job, nightly_job
from pipelines.partitions import monthly_partitions

PARTITION_TAG = "dagster/partition"
BACKFILL_TAG = "dagster/backfill"


def month_closed_by(nightly_partition: str) -> str | None:
    """The month_end partition a successful nightly run for `nightly_partition` completes, if any.

    A nightly partition is the date of its 2 AM run (see `nightly_schedule`), and that run reads
    everything changed up to 2 AM. So the run for the last day of a month still misses that day;
    the first run holding the whole month is the one on the 1st of the next month: partition
    2026-12-01 closes November ("2026-11-01", the monthly partition key). Other days close nothing.
    """
    day = date.fromisoformat(nightly_partition)
    if day.day != 1:
        return None
    return (day - timedelta(days=1)).replace(day=1).isoformat()


@dg.run_status_sensor(
    name="month_end_after_nightly",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job],
    request_job=month_end_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Month-end reconciliation for the month just ended, once the nightly run for the "
    "1st of the next month has succeeded.",
)
def month_end_after_nightly(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    # monitored_jobs already filters; kept because month_end partitions are 1st-of-month dates
    # too, and a month_end run taken for a nightly one would close the month before it.
    if run.job_name != nightly_job.name:
        return dg.SkipReason(f"run {run.run_id} is a {run.job_name} run, not a nightly one")
    partition = run.tags.get(PARTITION_TAG)
    if partition is None:
        return dg.SkipReason(f"nightly run {run.run_id} has no partition")
    # A backfill re-processes past dates; letting it re-close past months would overwrite reports
    # finance already took, with today's data. Past months are re-run as month_end backfills.
    if run.tags.get(BACKFILL_TAG):
        return dg.SkipReason(f"nightly run {run.run_id} ({partition}) is part of backfill {run.tags[BACKFILL_TAG]}")
    month = month_closed_by(partition)
    if month is None:
        return dg.SkipReason(f"nightly partition {partition} does not complete a month")
    if month < monthly_partitions.get_first_partition_key():
        return dg.SkipReason(f"month {month[:7]} is before the first month-end partition")
    # The run key makes a re-executed nightly for the same 1st close the month only once.
    return dg.RunRequest(
        run_key=f"month_end:{month}",
        partition_key=month,
        tags={"ledgerlink/trigger": "month_end_after_nightly", "ledgerlink/nightly_run": run.run_id},
    )
