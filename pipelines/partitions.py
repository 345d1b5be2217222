"""Partitions, declared once.

Daily partitions drive the nightly run (partition = the run's date); monthly partitions drive
the month-end reconciliation (partition = the month being closed).
"""

import dagster as dg

from ledgerlink.config import settings

_schedule = settings().schedule

# end_offset=1: today's partition exists, so the 2 AM run processes the date it runs on.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_schedule.start_date.isoformat(), timezone=_schedule.timezone, end_offset=1
)

# end_offset=0: the newest partition is the last complete month, the one finance closes.
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=_schedule.start_date.replace(day=1).isoformat(), timezone=_schedule.timezone
)
