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
from psycopg.rows import dict_row

from assets import load as load_assets
from assets.quality import suite_check
from ledgerlink.config import Settings
from ledgerlink.db import read_sql
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


def _materialize(dataset, instance, staging=STAGING, checks=CHECKS):
    assets = [*(_stub(t) for t in staging), *LOADS, *(suite_check(suite_by_name(n)) for n in checks)]
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


def _field_sync_pairs(conn) -> dict[str, dict]:
    """Account -> its field-sync pair (account and customer side by side), as the sync reads them."""
    with conn.cursor(row_factory=dict_row) as cur:
        return {r["sf_account_id"]: r for r in cur.execute(read_sql("load/field_sync_pairs.sql")).fetchall()}


def _field_sync_writes(conn, accounts: set[str]) -> list[tuple]:
    """What the field sync wrote or recorded for these accounts, on either side."""
    return conn.execute(
        """select 'qbo', source_id from sync.outbox where entity = 'Customer' and operation = 'update'
             and source_id = any(%(a)s)
           union all select 'salesforce', record_id from sync.sf_push_state
            where object = 'Account.customer_fields' and record_id = any(%(a)s)
           union all select 'agreed', sf_account_id from sync.customer_field_state where sf_account_id = any(%(a)s)
           union all select 'conflict', sf_account_id from sync.field_conflict where sf_account_id = any(%(a)s)""",
        {"a": sorted(accounts)}).fetchall()


def _status_pushed_accounts(conn) -> set[str]:
    return {r[0] for r in conn.execute("select record_id from sync.sf_push_state where object = 'Account'")}


def test_a_held_account_holds_back_its_deals_and_its_field_sync_until_fixed(conn, world):
    dataset, sandbox = world
    planned = _would_be_invoiced(conn, dataset)
    account_of = dict(conn.execute("select id, account_id from staging.sf_opportunity where id = any(%s)",
                                   (planned,)).fetchall())
    pairs = _field_sync_pairs(conn)
    # A: an account with a deal to invoice and a linked customer whose name the sync would change.
    a = next((account_of[o] for o in planned if account_of[o] in pairs
              and " ".join(pairs[account_of[o]]["name"].split()) != pairs[account_of[o]]["display_name"]), None)
    assert a is not None, "the dataset must have a linked account with a deal and a name to sync"
    b = next((account_of[o] for o in planned if account_of[o] != a), None)
    assert b is not None, "the dataset must have deals of another account"
    held = {o for o in planned if account_of[o] in (a, b)}
    others = [o for o in planned if o not in held]
    assert others, "the dataset must have deals of a third account"
    customer = pairs[a]["qb_customer_id"]
    qbo_name = sandbox.qbo.entities["Customer"][customer]["DisplayName"]
    original = dict(conn.execute("select id, qbo_customer_id from staging.sf_account where id in (%s, %s)",
                                 (a, b)).fetchall())
    # Somebody pasted the same QBO customer id into two accounts: which customer bills them is in doubt.
    conn.execute("update staging.sf_account set qbo_customer_id = '9999' where id in (%s, %s)", (a, b))
    staging, checks = (*STAGING, "sf_account"), (*CHECKS, "sf_account")
    instance = dg.DagsterInstance.ephemeral()

    first = _materialize(dataset, instance, staging, checks)
    assert first.success  # a row-level failure warns; the run goes on
    evaluations = {e.asset_check_key.name: e for e in first.get_asset_check_evaluations()}
    assert not evaluations["gx_sf_account"].passed
    assert evaluations["gx_sf_account"].severity == dg.AssetCheckSeverity.WARN
    assert open_quarantine_ids(conn, "staging.sf_account") == {a, b}
    assert open_quarantine_ids(conn, "sync.planned_invoices") == held
    for deal in held:
        assert _qbo_invoices_for(sandbox, deal) == [], deal
    for deal in others:
        assert len(_qbo_invoices_for(sandbox, deal)) == 1, deal
    # Field sync ran for the other pairs, not for the held accounts.
    assert _field_sync_writes(conn, set(pairs) - {a, b})
    assert _field_sync_writes(conn, {a, b}) == []
    assert sandbox.qbo.entities["Customer"][customer]["DisplayName"] == qbo_name
    # Nor did their balances go to Salesforce: whose customer's balance would it be?
    assert _status_pushed_accounts(conn) & {a, b} == set()
    assert _status_pushed_accounts(conn)

    for account, link in original.items():
        conn.execute("update staging.sf_account set qbo_customer_id = %s where id = %s", (link, account))
    second = _materialize(dataset, instance, staging, checks)
    assert second.success
    assert open_quarantine_ids(conn, "staging.sf_account") == set()
    assert open_quarantine_ids(conn, "sync.planned_invoices") == set()
    for deal in planned:
        assert len(_qbo_invoices_for(sandbox, deal)) == 1, deal
    assert " ".join(pairs[a]["name"].split()) == sandbox.qbo.entities["Customer"][customer]["DisplayName"]
    assert ("qbo", a) in _field_sync_writes(conn, {a})
    assert a in _status_pushed_accounts(conn)
