"""Nothing is lost to 429 storms, 5xx answers, dropped connections or a token expiring mid-run."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from psycopg.types.json import Jsonb

from ledgerlink.clients.ratelimit import QboLimits, QboRateLimiter
from ledgerlink.load import keys
from ledgerlink.load.planner import plan_invoices
from ledgerlink.load.sender import send_outbox
from ledgerlink.load.sf_push import push_updates
from ledgerlink.load.sf_status import desired_updates
from ledgerlink.reconcile.rules import opportunity_ref
from sandbox.faults import FaultConfig
from tests.load.conftest import link_truth, load_dataset, qbo_client, sf_client, tiny_dataset

ALL_STAGES = ["Closed Won", "Negotiation", "Proposal", "Qualification", "Prospecting"]


def planned(conn, settings, dataset) -> set[str]:
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    plan = plan_invoices(conn, settings, as_of=dataset.as_of)
    return {r.source_id for r in plan.invoices if not r.hold_reason}


def created_once(company, opportunities: set[str]) -> bool:
    counts = Counter(opportunity_ref(i.get("PrivateNote")) for i in company.entities["Invoice"].values()
                     if (i.get("DocNumber") or "").startswith("SF-"))
    return all(counts[o] == 1 for o in opportunities) and set(counts) == opportunities


def send_until_done(db_url, client, runs: int = 3, **kwargs):
    """A run QBO never answered leaves its batch open; the next run replays it."""
    results = []
    for n in range(runs):
        results.append(send_outbox(db_url, client, max_attempts=5, run_id=f"run{n}", **kwargs))
        if results[-1].aborted is None:
            break
    return results


def test_5xx_drops_and_token_expiry_lose_nothing(conn, db_url, settings, sandbox_factory):
    settings.loads.closed_won_stages = ALL_STAGES
    faults = FaultConfig(error_rate=0.2, drop_rate=0.1, expire_token_after=4, seed=5)
    sandbox = sandbox_factory(dataset=tiny_dataset(), time_scale=600, faults={"qbo": faults, "salesforce": faults})
    opportunities = planned(conn, settings, sandbox.dataset)
    client = qbo_client(sandbox.env, db_url, time_scale=600, backoff_initial_s=0.5)
    results = send_until_done(db_url, client, batch_size=5)
    assert results[-1].aborted is None and sum(r.failed + r.dead for r in results) == 0
    assert created_once(sandbox.qbo, opportunities)
    injector = sandbox_injector(sandbox, "qbo")
    assert injector.counts["errors"] > 0 and injector.counts["dropped"] > 0 and injector.counts["expired"] == 1
    assert client.counters.token_refreshes >= 2  # the connect, and the refresh after the expiry

    # The same storm on the Salesforce side: every status field still lands.
    sf = sf_client(sandbox.env)
    updates = desired_updates(conn, as_of=sandbox.dataset.as_of)
    pushed = push_updates(conn, sf, updates, bulk_threshold=10_000, budget_share=0.5, max_attempts=3)
    assert pushed.failed == 0 and sum(pushed.pushed.values()) == pushed.changed > 0
    for u in updates:
        record = sandbox.sf.records[u.object][u.record_id]
        for name, value in u.fields.items():
            have = record[name]
            assert (str(have) if have is not None else None) == (str(value) if value is not None else None) or (
                Decimal(str(have)) == Decimal(str(value))), (u.record_id, name)


def sandbox_injector(sandbox, service: str):
    """The fault injector wrapped around an emulator's app (to read what it injected)."""
    from sandbox.faults import FaultInjector

    for svc in sandbox._services:
        app = svc.server.config.app
        if isinstance(app, FaultInjector) and app.service == service:
            return app
    raise LookupError(service)


def synthetic_backlog(conn, dataset, count: int) -> set[str]:
    """`count` invoice creations straight into the outbox (for existing customers and an item)."""
    customer = next(c for c in dataset.qbo["Customer"] if c.get("Active", True))
    item = next(i for i in dataset.qbo["Item"] if i.get("Active", True))
    sources = set()
    for n in range(count):
        source = f"006STORM{n:010d}"
        sources.add(source)
        payload = {"DocNumber": f"SF-{source}", "CustomerRef": {"value": customer["Id"]},
                   "PrivateNote": f"Salesforce Opportunity {source}",
                   "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10,
                             "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 10}}]}
        conn.execute("insert into sync.outbox (idempotency_key, entity, operation, phase, source_object, source_id,"
                     " payload, payload_hash) values (%s, 'Invoice', 'create', 2, 'Opportunity', %s, %s, %s)",
                     [keys.invoice_key(source), source, Jsonb(payload), keys.payload_hash(payload)])
    return sources


def test_429_storm_is_waited_out(conn, db_url, sandbox_factory):
    scale = 20.0  # a QBO minute lasts three seconds: 40 batch calls per 3 s
    sandbox = sandbox_factory(dataset=tiny_dataset(), time_scale=scale)
    sources = synthetic_backlog(conn, sandbox.dataset, 100)
    # A client whose limiter allows far more than QBO does: QBO answers 429 and the client waits.
    loose = QboRateLimiter(sandbox.settings.realm_id, QboLimits(requests_per_minute=5000, requests_per_second=500,
                                                                batches_per_minute=1000, time_scale=scale))
    client = qbo_client(sandbox.env, db_url, time_scale=scale, limiter=loose)
    results = send_until_done(db_url, client, workers=4, batch_size=1)
    assert results[-1].aborted is None and sum(r.failed + r.dead for r in results) == 0
    assert sandbox.qbo.throttle.throttled > 0 and client.counters.throttled == sandbox.qbo.throttle.throttled
    counts = Counter(i.get("DocNumber") for i in sandbox.qbo.entities["Invoice"].values())
    assert all(counts[f"SF-{s}"] == 1 for s in sources)
