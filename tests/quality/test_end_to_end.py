"""The quality gates in front of the real loads, against both emulators.

A tiny generated company goes into staging as a full extract would leave it; the staging assets
are stand-ins (nothing to extract), the checks and the four load assets are the real ones, the
QBO and Salesforce APIs are the sandbox's. A blocking failure means nothing is written to either
API; a row-level failure holds back exactly the bad deal while the others are invoiced, and the
deal is invoiced on the run after its source is fixed.
"""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from assets import load as load_assets
from assets.quality import suite_check
from ledgerlink.config import Settings
from ledgerlink.load.planner import plan_invoices
from ledgerlink.quality.quarantine import open_quarantine_ids
from ledgerlink.quality.suites import suite_by_name
from pipelines.partitions import daily_partitions
from pipelines.resources import build_resources
from tests.load.conftest import link_truth, load_dataset, tiny_dataset

SCALE = 600  # sandbox clock speed-up, as in the loads tests
STAGING = ("sf_opportunity", "sf_opportunity_line_item", "qb_invoice")
CHECKS = ("opportunity_line_totals", "qb_invoice", "planned_invoices")
LOADS = [load_assets.planned_invoices, load_assets.qbo_invoices, load_assets.salesforce_invoice_status,
         load_assets.customer_field_sync]


def _stub(table: str) -> dg.AssetsDefinition:
    @dg.asset(key=["staging", table], group_name="extract", partitions_def=daily_partitions)
    def _extract() -> None:
        """Stand-in: staging was loaded by the test."""

    return _extract


def _materialize(dataset, instance):
    assets = [*(_stub(t) for t in STAGING), *LOADS, *(suite_check(suite_by_name(n)) for n in CHECKS)]
    return dg.materialize(assets, resources=build_resources(), partition_key=dataset.as_of.isoformat(),
                          instance=instance, raise_on_error=False)


def _qbo_invoices_for(sandbox, opportunity_id: str) -> list[dict]:
    return [i for i in sandbox.qbo.entities["Invoice"].values() if opportunity_id in (i.get("PrivateNote") or "")]


def _would_be_invoiced(conn, dataset) -> list[str]:
    """Opportunities the planner would invoice now (planned in a transaction rolled back)."""
    planned: list[str] = []
    try:
        with conn.transaction():
            plan_invoices(conn, Settings(), as_of=dataset.as_of)
            planned = [r[0] for r in conn.execute(
                "select source_id from sync.outbox where entity = 'Invoice' and status = 'pending' order by source_id")]
            raise psycopg.Rollback()
    except psycopg.Rollback:
        pass
    return planned


@pytest.fixture
def world(conn, db_url, sandbox_factory, monkeypatch):
    dataset = tiny_dataset()
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE)
    monkeypatch.setenv("LEDGERLINK_QBO_TIME_SCALE", str(SCALE))
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    return dataset, sandbox


def test_a_blocking_failure_writes_nothing_to_qbo_or_salesforce(conn, world):
    dataset, sandbox = world
    assert _would_be_invoiced(conn, dataset), "the dataset must have something to invoice"
    # An invoice without a customer: QBO never returns one, so the extract is broken.
    conn.execute("update staging.qb_invoice set customer_id = null"
                 " where id = (select min(id) from staging.qb_invoice where not _deleted)")

    result = _materialize(dataset, dg.DagsterInstance.ephemeral())

    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert not checks["gx_qb_invoice"].passed
    assert checks["gx_qb_invoice"].severity == dg.AssetCheckSeverity.ERROR
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert not materialized & set(load_assets.LOAD_ASSETS)
    assert not [r for r in sandbox.qbo.request_log if r["wrote"]]
    assert not [r for r in sandbox.sf.request_log if r["write"]]
    assert conn.execute("select count(*) from sync.outbox").fetchone()[0] == 0


def test_a_row_level_failure_holds_back_only_that_deal_until_fixed(conn, world):
    dataset, sandbox = world
    planned = _would_be_invoiced(conn, dataset)
    assert len(planned) >= 2, "the dataset must have two deals to invoice"
    bad = planned[0]
    # Somebody typed an amount over the line items: they no longer add up.
    conn.execute("update staging.sf_opportunity set amount = amount + 100 where id = %s", (bad,))
    instance = dg.DagsterInstance.ephemeral()

    first = _materialize(dataset, instance)
    assert first.success  # row-level failures warn; the run goes on
    checks = {e.asset_check_key.name: e for e in first.get_asset_check_evaluations()}
    assert checks["gx_opportunity_line_totals"].severity == dg.AssetCheckSeverity.WARN
    assert open_quarantine_ids(conn, "staging.sf_opportunity") == {bad}
    assert open_quarantine_ids(conn, "sync.planned_invoices") == {bad}
    assert _qbo_invoices_for(sandbox, bad) == []
    for good in planned[1:]:
        assert len(_qbo_invoices_for(sandbox, good)) == 1, good

    conn.execute("update staging.sf_opportunity set amount = amount - 100 where id = %s", (bad,))
    second = _materialize(dataset, instance)
    assert second.success
    assert open_quarantine_ids(conn, "staging.sf_opportunity") == set()
    assert open_quarantine_ids(conn, "sync.planned_invoices") == set()
    assert len(_qbo_invoices_for(sandbox, bad)) == 1
    released = conn.execute(
        "select table_name, released_run from sync.quarantine where record_id = %s order by table_name", (bad,)
    ).fetchall()
    assert [t for t, _ in released] == ["staging.sf_opportunity", "sync.planned_invoices"]
    assert {run for _, run in released} == {second.run_id}
