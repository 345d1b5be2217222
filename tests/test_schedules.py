"""What starts runs on its own: the 2 AM schedule and the month-end sensor behind it."""

from __future__ import annotations

import dagster as dg
import pytest

from ledgerlink import db
from pipelines.sensors import month_closed_by


@pytest.fixture
def defs(monkeypatch):
    monkeypatch.setenv(db.DATABASE_URL_ENV, "postgresql://unused")
    from pipelines.definitions import defs

    return defs


def _evaluate(sensor, job_name: str, tags: dict[str, str]):
    """The sensor's answer to one finished run, through Dagster's own context builder."""
    run = dg.DagsterRun(job_name=job_name, tags=tags)
    event = dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name=job_name)
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_event=event, dagster_instance=dg.DagsterInstance.ephemeral(),
        dagster_run=run,
    )
    return sensor(context)


def test_what_runs_by_itself_is_on_after_install(defs):
    assert defs.resolve_schedule_def("nightly_schedule").default_status == dg.DefaultScheduleStatus.RUNNING
    sensor = defs.resolve_sensor_def("month_end_after_nightly")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "month_end"
    # The close follows the nightly run only: a clock-driven month_end run could start on
    # half-loaded data, or a second time for the same month.
    schedules = defs.get_repository_def().schedule_defs
    assert [s.job_name for s in schedules] == ["nightly"]


@pytest.mark.parametrize(
    ("nightly_partition", "month"),
    [
        ("2026-12-01", "2026-11-01"),  # the 2 AM run on Dec 1 is the first to hold all of November
        ("2027-01-01", "2026-12-01"),  # across the year end
        ("2028-03-01", "2028-02-01"),  # after a Feb 29
        ("2026-11-30", None),  # the run at 2 AM on the last day misses that day
        ("2026-12-31", None),
        ("2026-11-22", None),
    ],
)
def test_the_nightly_run_on_the_first_closes_the_month_before(nightly_partition, month):
    assert month_closed_by(nightly_partition) == month


def test_sensor_requests_the_close_once_per_month_after_the_nightly_for_the_first(defs):
    sensor = defs.resolve_sensor_def("month_end_after_nightly")

    request = _evaluate(sensor, "nightly", {"dagster/partition": "2026-10-01"})
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-09-01"
    assert request.run_key == "month_end:2026-09-01"
    assert request.partition_key in defs.resolve_job_def("month_end").partitions_def.get_partition_keys()

    for job_name, tags, reason in [
        ("nightly", {"dagster/partition": "2026-09-30"}, "does not complete a month"),
        ("nightly", {"dagster/partition": "2026-10-01", "dagster/backfill": "abc"}, "backfill abc"),
        ("nightly", {"dagster/partition": "2025-01-01"}, "before the first month-end partition"),
        ("nightly", {}, "has no partition"),
        ("month_end", {"dagster/partition": "2026-10-01"}, "not a nightly one"),
    ]:
        answer = _evaluate(sensor, job_name, tags)
        assert isinstance(answer, dg.SkipReason), (job_name, tags)
        assert reason in answer.skip_message
