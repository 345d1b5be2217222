"""The LedgerLink code location."""

import dagster as dg

from assets import extract, load, matching, quality, reports
from pipelines.jobs import month_end_job, nightly_job
from pipelines.resources import build_resources
from pipelines.schedules import nightly_schedule
from pipelines.sensors import month_end_after_nightly

defs = dg.Definitions.merge(
    extract.defs,
    matching.defs,
    quality.defs,
    load.defs,
    reports.defs,
    dg.Definitions(
        jobs=[nightly_job, month_end_job],
        schedules=[nightly_schedule],
        sensors=[month_end_after_nightly],
        resources=build_resources(),
    ),
)
