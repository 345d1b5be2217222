"""The planned_customers suite in front of the real sender, against the QBO emulator.

Each expectation's break / hold / release is in tests/quality/scenarios.py (run by
test_expectations.py against the real view). Here: what a hold does to the load. A customer
write the suite holds is not sent (so QBO never answers 6240 and nothing is dead-lettered), the
invoices that need a held creation wait with it, every other write goes, and the run after the
plan is fixed sends them.
"""

from __future__ import annotations

import json

import dagster as dg
import pytest

from assets.quality import quality_checks
from ledgerlink.config import Settings
from ledgerlink.load.planner import plan_invoices
from ledgerlink.load.sender import send_outbox
from ledgerlink.quality.gate import ERROR, run_suite
from ledgerlink.quality.quarantine import open_quarantine_ids
from ledgerlink.quality.suites import suite_by_name
from ledgerlink.reconcile.rules import opportunity_ref
from tests.load.conftest import link_truth, load_dataset, qbo_client, tiny_dataset
from tests.quality.data import RUN_DATE

SCALE = 600
HELD = "sync.planned_customers"


def _validate(db_url, run_id):
    return run_suite(db_url, suite_by_name("planned_customers"), run_id=run_id, run_date=RUN_DATE)


def _customers_named(sandbox, name: str) -> list[dict]:
    key = name.strip().casefold()
    return [c for c in sandbox.qbo.entities["Customer"].values() if c["DisplayName"].strip().casefold() == key]


def _invoiced(sandbox) -> set[str]:
    return {opportunity_ref(i.get("PrivateNote")) for i in sandbox.qbo.entities["Invoice"].values()} - {None}


def test_the_check_guards_the_asset_that_plans_customer_writes():
    check = next(c for c in quality_checks if any(k.name == "gx_planned_customers" for k in c.check_keys))
    (spec,) = check.check_specs
    assert spec.key.asset_key == dg.AssetKey(["sync", "planned_invoices"])
    assert spec.blocking  # its table-level failure stops qbo_invoices in the same run


@pytest.fixture
def world(conn, db_url, sandbox_factory):
    dataset = tiny_dataset()
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE)
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    return dataset, sandbox, qbo_client(sandbox.env, db_url, time_scale=SCALE)


def test_a_create_whose_name_qbo_already_has_is_held_not_rejected_until_renamed(conn, db_url, world):
    dataset, sandbox, client = world
    settings = Settings()
    plan_invoices(conn, settings, as_of=dataset.as_of, run_id="plan-1")
    creates = conn.execute(
        "select c.idempotency_key, c.source_id, c.payload ->> 'DisplayName',"
        "       array_agg(i.source_id order by i.source_id)"
        " from sync.outbox c join sync.outbox i on i.depends_on = c.idempotency_key and i.status = 'pending'"
        " where c.entity = 'Customer' and c.operation = 'create' and c.status = 'pending'"
        " group by 1, 2, 3 order by 1").fetchall()
    assert len(creates) >= 2, "the dataset must plan two new customers with invoices"
    key, account, name, deals = creates[0]
    other_deals = {d for row in creates[1:] for d in row[3]}
    # Somebody keyed the company into QBO by hand (other case, extra spaces) and the extract saw it.
    keyed = client.request("POST", "customer", {"DisplayName": f"  {name.upper()} "},
                           request_id="keyed-by-hand")["Customer"]
    conn.execute("insert into staging.qb_customer (id, display_name, currency, active) values (%s, %s, 'USD', true)",
                 [keyed["Id"], keyed["DisplayName"]])

    first = _validate(db_url, "run-1")
    outcome = next(o for o in first.outcomes if o.rule.name == "display_name_not_in_qbo")
    assert outcome.outcome == "failed" and not first.blocks
    assert open_quarantine_ids(conn, HELD) == {key}
    sent = send_outbox(db_url, client, max_attempts=2, run_id="run-1")

    assert sent.aborted is None and sent.failures == []
    assert conn.execute("select count(*) from sync.dead_letter").fetchone()[0] == 0  # no 6240
    assert [c["Id"] for c in _customers_named(sandbox, name)] == [keyed["Id"]]
    assert conn.execute("select status from sync.outbox where idempotency_key = %s", [key]).fetchone()[0] == "pending"
    assert not set(deals) & _invoiced(sandbox)  # its invoices wait for it
    assert {w["idempotency_key"] for w in sent.waiting} == {f"invoice:{d}:v1" for d in deals}
    assert other_deals <= _invoiced(sandbox)  # everything else went
    for other_key, _, other_name, _ in creates[1:]:
        assert len(_customers_named(sandbox, other_name)) == 1, other_key

    # Fixed at the source: the account is renamed in Salesforce; the next plan carries the name.
    new_name = f"{name} (Salesforce)"
    conn.execute("update staging.sf_account set name = %s where id = %s", [new_name, account])
    plan_invoices(conn, settings, as_of=dataset.as_of, run_id="plan-2")
    second = _validate(db_url, "run-2")
    assert second.passed and second.released == 1
    assert open_quarantine_ids(conn, HELD) == set()
    again = send_outbox(db_url, client, max_attempts=2, run_id="run-2")
    assert again.failures == [] and again.created.get("Customer") == 1
    assert len(_customers_named(sandbox, new_name)) == 1
    assert set(deals) <= _invoiced(sandbox)


def test_a_held_customer_update_is_not_sent_and_goes_once_fixed(conn, db_url, world):
    """A rename (field sync, rejected before and due for retry) to another customer's name."""
    dataset, sandbox, client = world
    first, second = sorted(sandbox.qbo.entities["Customer"].values(), key=lambda c: int(c["Id"]))[:2]
    staged = {r[0] for r in conn.execute("select id from staging.qb_customer where not _deleted and active")}
    assert {first["Id"], second["Id"]} <= staged
    # A good update (phone) and a rename of `second` to `first`'s name.
    rows = {"customer-update:phone": {"Id": second["Id"], "SyncToken": second["SyncToken"], "sparse": True,
                                      "PrimaryPhone": {"FreeFormNumber": "555-0199"}},
            "customer-update:rename": {"Id": first["Id"], "SyncToken": first["SyncToken"], "sparse": True,
                                       "DisplayName": second["DisplayName"].lower()}}
    for key, payload in rows.items():
        conn.execute("insert into sync.outbox (idempotency_key, entity, operation, phase, source_object, source_id,"
                     " payload, payload_hash, status, attempts, last_error_code) values"
                     " (%s, 'Customer', 'update', 1, 'Account', %s, %s::jsonb, %s, %s, %s, %s)",
                     [key, f"acct-{key}", json.dumps(payload), key,
                      "failed" if key.endswith("rename") else "pending",
                      1 if key.endswith("rename") else 0, "6240" if key.endswith("rename") else None])

    assert not _validate(db_url, "run-1").passed
    assert open_quarantine_ids(conn, HELD) == {"customer-update:rename"}
    sent = send_outbox(db_url, client, max_attempts=2, run_id="run-1")
    assert sent.updated == 1 and sent.failures == []
    assert sandbox.qbo.entities["Customer"][second["Id"]]["PrimaryPhone"]["FreeFormNumber"] == "555-0199"
    assert sandbox.qbo.entities["Customer"][first["Id"]]["DisplayName"] == first["DisplayName"]

    # The plan changes: the rename now gives a name of its own.
    conn.execute("update sync.outbox set payload = jsonb_set(payload, '{DisplayName}', '\"Renamed Ltd\"')"
                 " where idempotency_key = 'customer-update:rename'")
    assert _validate(db_url, "run-2").passed
    assert open_quarantine_ids(conn, HELD) == set()
    again = send_outbox(db_url, client, max_attempts=2, run_id="run-2")
    assert again.updated == 1 and again.failures == []
    assert sandbox.qbo.entities["Customer"][first["Id"]]["DisplayName"] == "Renamed Ltd"


def test_widespread_name_clashes_block_the_load(conn, db_url):
    """More than 20 planned creates already in QBO: the customer links are broken, not 21 records."""
    names = [f"Existing {i}" for i in range(21)]
    for i, name in enumerate(names):
        conn.execute("insert into staging.qb_customer (id, display_name, active) values (%s, %s, true)",
                     [f"q{i}", name])
        conn.execute("insert into sync.outbox (idempotency_key, entity, operation, phase, source_object, source_id,"
                     " payload, payload_hash) values (%s, 'Customer', 'create', 1, 'Account', %s, %s::jsonb, 'h')",
                     [f"customer:a{i}:v1", f"a{i}", f'{{"DisplayName": "{name.upper()}"}}'])

    blocked = _validate(db_url, "run-1")
    outcome = next(o for o in blocked.outcomes if o.rule.name == "display_name_not_in_qbo")
    assert outcome.escalated and blocked.blocks and blocked.severity == ERROR

    # One clash fewer than the ceiling is about records again: held, not blocking.
    conn.execute("delete from sync.outbox where idempotency_key = 'customer:a0:v1'")
    held = _validate(db_url, "run-2")
    assert not held.blocks and len(open_quarantine_ids(conn, HELD)) == 20
