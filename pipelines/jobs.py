"""Jobs: the nightly run and the month-end close."""

import dagster as dg

NIGHTLY_GROUPS = ("extract", "matching", "quality", "loads")

# In-process: the steps are bound by API rate limits (pools serialise them anyway), and a
# process per step would re-import Dagster, polars and Great Expectations ~40 times a night.
EXECUTOR = dg.in_process_executor

# One job for extract -> match -> validate -> load, so a blocking check stops the loads in the
# same run (blocking only works within a run).
nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.groups(*NIGHTLY_GROUPS),
    executor_def=EXECUTOR,
    description="Extract both systems, match customers, validate, then load invoices and payment status.",
)

month_end_job = dg.define_asset_job(
    "month_end",
    selection=dg.AssetSelection.groups("reports"),
    executor_def=EXECUTOR,
    description="Closed-Won-versus-Invoiced reconciliation, bridge and aging for one month.",
)
