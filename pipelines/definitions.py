"""The LedgerLink code location."""

import dagster as dg

from assets import extract, load, matching, quality, reports
from pipelines.jobs import month_end_job, nightly_job
from pipelines.resources import build_resources
from pipelines.schedules import month_end_schedule, nightly_schedule

defs = dg.Definitions.merge(
    extract.defs,
    matching.defs,
    quality.defs,
    load.defs,
    reports.defs,
    dg.Definitions(
        jobs=[nightly_job, month_end_job],
        schedules=[nightly_schedule, month_end_schedule],
        resources=build_resources(),
    ),
)
