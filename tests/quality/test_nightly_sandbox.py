"""The quality gates in the real nightly job, with the bad data put into the sandbox's systems.

Nothing is stubbed or staged by hand: a tiny generated company is served by both emulators, the
data is broken in Salesforce through simple-salesforce (as a user or a Data Loader job would),
and the whole `nightly` job runs for a day: extract (full the first night, incremental the
next), match, validate, load. Then the source is fixed the same way and the next day's run is
expected to pick the fix up through its incremental extract and let the held records through.
The one departure from `ledgerlink run`: the Salesforce client polls Bulk jobs faster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from assets import load as load_assets
from ledgerlink.clients.salesforce import SalesforceClient, SalesforceCredentials
from ledgerlink.quality.quarantine import open_quarantine_ids
from pipelines.resources import SalesforceResource, build_resources
from sandbox.generator import generate

SCALE = 600  # sandbox clock speed-up, as in the loads tests
AS_OF = date(2026, 11, 20)  # the dataset's day; a Friday and the next a Saturday: no weekly purge sweep
FIRST_NIGHT, SECOND_NIGHT = AS_OF.isoformat(), (AS_OF + timedelta(days=1)).isoformat()


class _QuickPollSalesforce(SalesforceResource):
    """The Salesforce resource with the real client, polling Bulk jobs every 50 ms instead of 500.

    The sandbox finishes a query job as soon as a poll has seen it running, so the production
    pace (0.5 s, then 0.75 s) would spend ~9 s of each night's ~15 s asleep.
    """

    def client(self):
        return SalesforceClient(SalesforceCredentials(**self.model_dump()), poll_wait_s=0.05, poll_max_wait_s=0.5)


def _resources() -> dict:
    """The code location's resources, read now: `pipelines.definitions` read its optional
    settings (the client secret, the CA bundle) when first imported, before the sandbox set them."""
    resources = build_resources(resolve_env=True)
    resources["salesforce"] = _QuickPollSalesforce(**resources["salesforce"].model_dump())
    return resources


@dataclass
class Night:
    result: dg.ExecuteInProcessResult
    qbo_writes: list[dict]  # QBO requests that changed the company during the run
    sf_writes: list[dict]  # Salesforce write requests during the run

    def check(self, name: str) -> dg.AssetCheckEvaluation:
        (evaluation,) = [e for e in self.result.get_asset_check_evaluations() if e.asset_check_key.name == name]
        return evaluation

    def extract_mode(self, table: str) -> str:
        (event,) = [e for e in self.result.get_asset_materialization_events()
                    if e.asset_key == dg.AssetKey(["staging", table])]
        return event.materialization.metadata["mode"].value

    @property
    def materialized(self) -> set[dg.AssetKey]:
        return {e.asset_key for e in self.result.get_asset_materialization_events()}


@dataclass
class World:
    sandbox: object
    salesforce: SalesforceClient  # simple-salesforce, logged in again when the session expires
    instance: dg.DagsterInstance

    def update_opportunity(self, opportunity_id: str, fields: dict) -> None:
        """A change made in Salesforce through its REST API, as a user's tool makes it."""
        self.salesforce.call(lambda api: api.Opportunity.update(opportunity_id, fields))

    def run_nightly(self, day: str) -> Night:
        """The nightly job as `ledgerlink run --date day` runs it, recorded on one instance."""
        from pipelines.definitions import defs

        job = dg.Definitions(assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
                             resources=_resources()).resolve_job_def("nightly")
        qbo_log, sf_log = len(self.sandbox.qbo.request_log), len(self.sandbox.sf.request_log)
        result = job.execute_in_process(instance=self.instance, partition_key=day, raise_on_error=False)
        return Night(result, [r for r in self.sandbox.qbo.request_log[qbo_log:] if r["wrote"]],
                     [r for r in self.sandbox.sf.request_log[sf_log:] if r["write"]])

    def invoices_for(self, opportunity_id: str) -> list[dict]:
        """QBO invoices LedgerLink made for a deal (DocNumber and PrivateNote name the opportunity)."""
        return [i for i in self.sandbox.qbo.entities["Invoice"].values()
                if i.get("DocNumber") == f"SF-{opportunity_id}" or opportunity_id in (i.get("PrivateNote") or "")]

    def closed_won(self) -> dict[str, dict]:
        return {i: r for i, r in self.sandbox.sf.records["Opportunity"].items()
                if not r["IsDeleted"] and r["IsWon"]}

    def to_invoice(self) -> list[str]:
        """Closed Won deals with no QBO invoice yet: what the night should invoice."""
        return sorted(i for i, r in self.closed_won().items() if r["CloseDate"] <= AS_OF and not self.invoices_for(i))


@pytest.fixture
def world(db_url, sandbox_factory, monkeypatch):
    sandbox = sandbox_factory(dataset=generate("tiny", seed=3, as_of=AS_OF), time_scale=SCALE)
    monkeypatch.setenv("LEDGERLINK_QBO_TIME_SCALE", str(SCALE))
    env = sandbox.env
    client = SalesforceClient(SalesforceCredentials(
        login_url=env["LEDGERLINK_SF_LOGIN_URL"], client_id=env["LEDGERLINK_SF_CLIENT_ID"],
        client_secret=env["LEDGERLINK_SF_CLIENT_SECRET"], ca_bundle=env["LEDGERLINK_CA_BUNDLE"])).connect()
    instance = dg.DagsterInstance.ephemeral()
    yield World(sandbox, client, instance)
    instance.dispose()
    client.close()  # or the sandbox's servers wait for the idle keep-alive connection


def _open_holds(conn, record_id: str) -> list[tuple]:
    return conn.execute(
        "select table_name, suite, expectation, value from sync.quarantine"
        " where record_id = %s and released_at is null order by table_name", (record_id,)).fetchall()


def _released_in(conn, record_ids, run_id: str) -> set[str]:
    return {r[0] for r in conn.execute(
        "select distinct record_id from sync.quarantine where record_id = any(%s) and released_run = %s",
        (list(record_ids), run_id))}


def test_a_deal_whose_lines_do_not_add_up_is_held_until_fixed_in_salesforce(conn, world):
    to_invoice = world.to_invoice()
    assert len(to_invoice) >= 3, "the dataset must have deals to invoice tonight"
    lines = {o: [li for li in world.sandbox.sf.records["OpportunityLineItem"].values()
                 if li["OpportunityId"] == o and not li["IsDeleted"]] for o in to_invoice}
    bad = max(to_invoice, key=lambda o: (len(lines[o]), o))
    good = [o for o in to_invoice if o != bad]
    amount = world.closed_won()[bad]["Amount"]
    assert amount == sum(li["TotalPrice"] for li in lines[bad])
    # A sales rep types a new amount over the deal's products: the lines no longer add up.
    world.update_opportunity(bad, {"Amount": float(amount + 100)})

    first = world.run_nightly(FIRST_NIGHT)

    assert first.extract_mode("sf_opportunity") == "full"
    assert first.result.success  # a row-level failure warns; the run goes on
    check = first.check("gx_opportunity_line_totals")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert open_quarantine_ids(conn, "staging.sf_opportunity") == {bad}
    assert open_quarantine_ids(conn, "sync.planned_invoices") == {bad}
    holds = _open_holds(conn, bad)
    assert ("staging.sf_opportunity", "opportunity_line_totals", "lines_add_up_to_amount") in [h[:3] for h in holds]
    assert Decimal(next(h[3] for h in holds if h[2] == "lines_add_up_to_amount")) == Decimal("100")
    assert world.invoices_for(bad) == []
    for deal in good:
        assert len(world.invoices_for(deal)) == 1, deal
    assert first.qbo_writes and first.sf_writes  # the loads ran for everything else

    # The rep puts the amount back; the next night's incremental extract sees the change.
    world.update_opportunity(bad, {"Amount": float(amount)})

    second = world.run_nightly(SECOND_NIGHT)

    assert second.result.success
    assert second.extract_mode("sf_opportunity") == "incremental"
    assert second.check("gx_opportunity_line_totals").passed
    assert open_quarantine_ids(conn, "staging.sf_opportunity") == set()
    assert open_quarantine_ids(conn, "sync.planned_invoices") == set()
    assert _released_in(conn, [bad], second.result.run_id) == {bad}
    assert len(world.invoices_for(bad)) == 1
    for deal in to_invoice:
        assert len(world.invoices_for(deal)) == 1, deal
    assert world.to_invoice() == []


def test_a_blocking_failure_loads_nothing_until_the_source_is_fixed(conn, world):
    to_invoice = world.to_invoice()
    assert to_invoice, "the dataset must have deals to invoice tonight"
    closed_won = world.closed_won()
    # A mass update (a Data Loader job with the wrong file) moves the close date of most Closed
    # Won deals a year ahead. Each row fails `closed_won_close_date_not_future`; so many fail that
    # the table, not single deals, is wrong (above max_percent): a table-level, blocking failure.
    moved = sorted(closed_won)[: len(closed_won) // 2 + 2]
    original = {o: closed_won[o]["CloseDate"] for o in moved}
    for deal in moved:
        world.update_opportunity(deal, {"CloseDate": (AS_OF + timedelta(days=365)).isoformat()})
    invoices_before = len(world.sandbox.qbo.entities["Invoice"])

    first = world.run_nightly(FIRST_NIGHT)

    assert not first.result.success  # the blocked loads fail the run: somebody must look
    check = first.check("gx_sf_opportunity")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    escalated = conn.execute(
        "select message from sync.quality_result where run_id = %s and suite = 'sf_opportunity'"
        " and expectation = 'closed_won_close_date_not_future' and outcome = 'failed' and escalated",
        (first.result.run_id,)).fetchone()
    assert escalated is not None and "max_percent" in escalated[0]
    # The extract ran (the bad dates are in staging); nothing after the gate did.
    assert dg.AssetKey(["staging", "sf_opportunity"]) in first.materialized
    assert conn.execute("select count(*) from staging.sf_opportunity where close_date > %s and id = any(%s)",
                        (AS_OF, moved)).fetchone()[0] == len(moved)
    assert not first.materialized & set(load_assets.LOAD_ASSETS)
    assert first.qbo_writes == [] and first.sf_writes == []
    assert len(world.sandbox.qbo.entities["Invoice"]) == invoices_before
    assert all(world.invoices_for(deal) == [] for deal in to_invoice)
    assert conn.execute("select count(*) from sync.outbox").fetchone()[0] == 0

    # The admin re-runs the job with the right file: the dates are back.
    for deal, close_date in original.items():
        world.update_opportunity(deal, {"CloseDate": close_date.isoformat()})

    second = world.run_nightly(SECOND_NIGHT)

    assert second.result.success
    assert second.extract_mode("sf_opportunity") == "incremental"
    assert second.check("gx_sf_opportunity").passed
    assert set(load_assets.LOAD_ASSETS) <= second.materialized
    assert second.qbo_writes and second.sf_writes
    for deal in to_invoice:
        assert len(world.invoices_for(deal)) == 1, deal
    assert world.to_invoice() == []
    assert open_quarantine_ids(conn, "staging.sf_opportunity") == set()
    assert _released_in(conn, moved, second.result.run_id) == set(moved)
