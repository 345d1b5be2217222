"""The month-end assets in Dagster: a partition materializes files, metadata and a passing check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import dagster as dg
import yaml

from assets.reports import aging, reconciliation
from pipelines.resources import PostgresResource, SettingsResource
from tests.reports.scenarios import Scenario


def _scenario() -> Scenario:
    s = Scenario()
    acme = s.account("Acme")
    opp = s.opportunity(acme, "1200.00", date(2026, 10, 2))
    s.invoice(acme, "1000.00", date(2026, 10, 3), opp=opp, due=date(2026, 11, 2))
    s.opportunity(acme, "50.00", date(2026, 10, 9))
    return s


def test_month_partition_materializes_reports(load, db_url, tmp_path):
    load(_scenario().finish())
    config = tmp_path / "ledgerlink.yaml"
    config.write_text(yaml.safe_dump({"reports": {"directory": str(tmp_path / "out")}}))
    resources = {
        "warehouse": PostgresResource(database_url=db_url),
        "settings": SettingsResource(config_path=str(config)),
    }

    for _ in range(2):  # re-running a month is safe
        result = dg.materialize([reconciliation, aging], partition_key="2026-10-01", resources=resources)
        assert result.success

    recon = result.asset_materializations_for_node("report__reconciliation")[0].metadata
    bridge = {r.data["line"]: r.data["amount"] for r in recon["bridge"].value.records}
    assert bridge["Closed Won total"] == "1250.00"
    assert bridge["AMOUNT_MISMATCH"] == "-200.00"
    assert bridge["NOT_INVOICED"] == "-50.00"
    assert bridge["Invoiced total"] == "1000.00"
    paths = [v.value for k, v in recon.items() if k.startswith("file.")]
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == [
        "bridge_2026-10.csv", "bridge_by_customer_2026-10.csv", "bridge_by_owner_2026-10.csv",
        "reconciliation_2026-10.csv",
    ]
    assert all(p.startswith(str(tmp_path / "out" / "2026-10")) for p in paths)
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("bridge_adds_up", True)]

    aging_meta = result.asset_materializations_for_node("report__aging")[0].metadata
    assert aging_meta["receivables_home"].value == float(Decimal("1000.00"))
    assert aging_meta["as_of_date"].value == "2026-10-31"
    assert (tmp_path / "out" / "2026-10" / "aging_2026-10.csv").exists()

    # A month with nothing in it still closes: zero totals, no DSO, a passing check.
    empty = dg.materialize([reconciliation, aging], partition_key="2026-01-01", resources=resources)
    assert empty.success
    meta = empty.asset_materializations_for_node("report__reconciliation")[0].metadata
    assert {r.data["line"]: r.data["amount"] for r in meta["bridge"].value.records}["Invoiced total"] == "0.00"
    assert empty.asset_materializations_for_node("report__aging")[0].metadata["dso_days"].value is None
    assert [c.passed for c in empty.get_asset_check_evaluations()] == [True]


def test_month_end_job_covers_the_reports_and_follows_the_nightly_run():
    from pipelines.definitions import defs

    job = defs.resolve_job_def("month_end")
    assert job.asset_layer.selected_asset_keys == {
        dg.AssetKey(["report", "reconciliation"]), dg.AssetKey(["report", "aging"])
    }

    # The nightly run for Nov 1 (2 AM) holds all of October; its success closes October.
    sensor = defs.resolve_sensor_def("month_end_after_nightly")
    assert sensor.job_name == "month_end"
    nightly = dg.DagsterRun(job_name="nightly", tags={"dagster/partition": "2026-11-01"})
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_instance=dg.DagsterInstance.ephemeral(), dagster_run=nightly,
        dagster_event=dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_SUCCESS.value, job_name="nightly"),
    )
    assert sensor(context).partition_key == "2026-10-01"
