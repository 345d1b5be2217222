"""The sender against the QBO emulator, with the real client and a real Postgres."""

from __future__ import annotations

from collections import Counter

import pytest

from ledgerlink.load.planner import plan_invoices
from ledgerlink.load.sender import send_outbox
from ledgerlink.reconcile.rules import opportunity_ref
from tests.load.conftest import link_truth, load_dataset, qbo_client, tiny_dataset


@pytest.fixture
def tiny():
    return tiny_dataset()


def invoices_by_opp(company) -> Counter:
    return Counter(opportunity_ref(i.get("PrivateNote")) for i in company.entities["Invoice"].values()
                   if opportunity_ref(i.get("PrivateNote")))


def test_every_closed_won_opportunity_gets_exactly_one_invoice(conn, db_url, settings, sandbox_factory, tiny):
    sandbox = sandbox_factory(dataset=tiny, time_scale=600)
    load_dataset(conn, tiny)
    link_truth(conn, tiny)
    before = invoices_by_opp(sandbox.qbo)
    plan = plan_invoices(conn, settings, as_of=tiny.as_of, run_id="r1")
    planned = {r.source_id for r in plan.invoices if not r.hold_reason}
    assert planned, "the tiny dataset has Closed Won opportunities without invoices"

    client = qbo_client(sandbox.env, db_url, time_scale=600)
    result = send_outbox(db_url, client, max_attempts=3, run_id="r1")
    assert result.aborted is None
    after = invoices_by_opp(sandbox.qbo)
    for opp in planned:
        assert after[opp] == 1 and before[opp] == 0
    assert result.counts()["invoices_created"] == len(planned)
    xref = dict(conn.execute("select sf_opportunity_id, qb_invoice_id from sync.invoice_xref").fetchall())
    assert set(xref) == planned
    for opp, invoice_id in xref.items():
        invoice = sandbox.qbo.entities["Invoice"][invoice_id]
        assert opportunity_ref(invoice["PrivateNote"]) == opp

    # Second pass: nothing left to send, and a re-plan changes nothing.
    writes = sandbox.qbo.writes
    plan_invoices(conn, settings, as_of=tiny.as_of, run_id="r2")
    again = send_outbox(db_url, client, max_attempts=3, run_id="r2")
    assert again.batches == 0 and sandbox.qbo.writes == writes


def test_rejected_record_is_dead_lettered_and_the_rest_goes_on(conn, db_url, settings, sandbox_factory, tiny):
    sandbox = sandbox_factory(dataset=tiny, time_scale=600)
    load_dataset(conn, tiny)
    link_truth(conn, tiny)
    plan_invoices(conn, settings, as_of=tiny.as_of)
    customers = conn.execute("select source_id, payload ->> 'DisplayName' from sync.outbox"
                             " where entity = 'Customer' and status = 'pending' order by id").fetchall()
    if not customers:
        pytest.skip("dataset plans no new customer")
    account, name = customers[0]
    # Somebody keys a customer of that name into QBO before the run: DisplayName must be unique.
    client = qbo_client(sandbox.env, db_url, time_scale=600)
    client.request("POST", "customer", {"DisplayName": name}, request_id="keyed-by-hand")
    result = send_outbox(db_url, client, max_attempts=2, run_id="r1")
    code, message, status, attempts = conn.execute(
        "select error_code, error_message, status, attempts from sync.dead_letter where source_id = %s",
        [account]).fetchone()
    assert code == "6240" and "Duplicate Name" in message and status == "retrying" and attempts == 1
    # The other customers and the invoices not depending on this one were sent.
    assert result.created.get("Invoice", 0) > 0
    waiting = [w["idempotency_key"] for w in result.waiting]
    assert waiting and all(w.startswith("invoice:") for w in waiting)

    # Retried on the next run, then exhausted and surfaced.
    result2 = send_outbox(db_url, client, max_attempts=2, run_id="r2")
    assert result2.dead == 1
    assert conn.execute("select status from sync.dead_letter where source_id = %s", [account]).fetchone()[0] == "exhausted"
    result3 = send_outbox(db_url, client, max_attempts=2, run_id="r3")
    assert result3.batches == 0


def test_open_batch_is_replayed_under_its_requestid(conn, db_url, settings, sandbox_factory, tiny):
    """A crash after QBO accepted a batch but before we recorded it: the replay creates nothing twice."""
    from ledgerlink.load.sender import Sender

    sandbox = sandbox_factory(dataset=tiny, time_scale=600)
    load_dataset(conn, tiny)
    link_truth(conn, tiny)
    plan_invoices(conn, settings, as_of=tiny.as_of)
    client = qbo_client(sandbox.env, db_url, time_scale=600)
    sender = Sender(db_url, client, max_attempts=3, run_id="crash")
    claimed = sender._claim(conn, 1) or sender._claim(conn, 2)
    batch_id, request_id, items = claimed
    client.batch(items, request_id)  # QBO processed it; we "crashed" before recording
    created_before = len(sandbox.qbo.entities["Invoice"]) + len(sandbox.qbo.entities["Customer"])

    result = send_outbox(db_url, client, max_attempts=3, run_id="after-crash")
    assert result.replayed_batches == 1
    assert conn.execute("select status from sync.outbox_batch where id = %s", [batch_id]).fetchone()[0] == "done"
    created_after = len(sandbox.qbo.entities["Invoice"]) + len(sandbox.qbo.entities["Customer"])
    assert created_after - created_before == result.counts()["invoices_created"] + result.counts()[
        "customers_created"] - len(items)
    assert max(invoices_by_opp(sandbox.qbo).values()) <= 2  # the generator's own duplicates only
    for opp in conn.execute("select sf_opportunity_id from sync.invoice_xref").fetchall():
        assert invoices_by_opp(sandbox.qbo)[opp[0]] == 1


def test_quarantined_invoice_waits_and_its_new_customer_is_not_created(conn, db_url, settings, sandbox_factory,
                                                                        tiny):
    sandbox = sandbox_factory(dataset=tiny, time_scale=600)
    load_dataset(conn, tiny)
    link_truth(conn, tiny)
    plan_invoices(conn, settings, as_of=tiny.as_of)
    checked = conn.execute("select opportunity_id, customer_id, display_name, doc_number, line_count,"
                           " unmapped_item_count, currency, existing_invoice_id from sync.planned_invoice_check"
                           " order by opportunity_id").fetchall()
    assert checked and all(r[1] and r[2] and len(r[3]) <= 21 and r[4] >= 1 and r[5] == 0 and r[7] is None
                           for r in checked)
    needing_customer = conn.execute(
        "select o.source_id, o.depends_on from sync.outbox o where o.entity = 'Invoice' and o.depends_on is not null"
        " and o.status = 'pending' order by o.id limit 1").fetchone()
    if needing_customer is None:
        pytest.skip("dataset plans no new customer")
    opp_id, customer_key = needing_customer
    client = qbo_client(sandbox.env, db_url, time_scale=600)
    # The planned_invoices suite held it back (any sender, e.g. the customer sync's, must skip it).
    conn.execute("insert into sync.quarantine (table_name, record_id, suite, expectation, reason, severity)"
                 " values ('sync.planned_invoices', %s, 'planned_invoices', 'items_mapped', 'test', 'critical')",
                 [opp_id])
    send_outbox(db_url, client, max_attempts=3)
    status = dict(conn.execute("select idempotency_key, status from sync.outbox").fetchall())
    assert status[f"invoice:{opp_id}:v1"] == "pending"
    others = conn.execute("select count(*) from sync.outbox where depends_on = %s and source_id <> %s",
                          [customer_key, opp_id]).fetchone()[0]
    assert status[customer_key] == ("sent" if others else "pending")
    assert invoices_by_opp(sandbox.qbo)[opp_id] == 0


def test_replay_after_qbo_forgot_the_requestid_adopts_instead_of_duplicating(conn, db_url, settings,
                                                                              sandbox_factory, tiny):
    """QBO keeps requestids for an unknown time: if the replay is not recognised, the DocNumber
    clash (6140) leads to the invoice already created for the same opportunity, which is linked."""
    from ledgerlink.load.sender import Sender

    sandbox = sandbox_factory(dataset=tiny, time_scale=600)
    load_dataset(conn, tiny)
    link_truth(conn, tiny)
    plan_invoices(conn, settings, as_of=tiny.as_of)
    client = qbo_client(sandbox.env, db_url, time_scale=600)
    send_outbox(db_url, client, max_attempts=3, run_id="customers-only", skip_opportunities={
        r[0] for r in conn.execute("select source_id from sync.outbox where entity = 'Invoice'").fetchall()})
    sender = Sender(db_url, client, max_attempts=3, run_id="lost")
    batch_id, request_id, items = sender._claim(conn, 2)
    assert all("Invoice" in i for i in items)
    client.batch(items, "an-id-qbo-no-longer-remembers")  # created; our answer was lost

    result = send_outbox(db_url, client, max_attempts=3, run_id="replay")
    assert result.replayed_batches == 1 and result.adopted == len(items)
    assert result.failed == 0
    counts = invoices_by_opp(sandbox.qbo)
    for opp in conn.execute("select sf_opportunity_id from sync.invoice_xref").fetchall():
        assert counts[opp[0]] == 1


def test_changed_opportunity_updates_its_invoice_when_enabled(conn, db_url, settings, sandbox_factory, tiny):
    from decimal import Decimal

    from tests.load.conftest import extract_qbo
    from tests.load.staging import put_sf

    sandbox = sandbox_factory(dataset=tiny, time_scale=600)
    load_dataset(conn, tiny)
    link_truth(conn, tiny)
    plan_invoices(conn, settings, as_of=tiny.as_of)
    client = qbo_client(sandbox.env, db_url, time_scale=600)
    send_outbox(db_url, client, max_attempts=3, run_id="create")
    extract_qbo(conn, client, entities=("Invoice",))
    opp_id, invoice_id = conn.execute("select sf_opportunity_id, qb_invoice_id from sync.invoice_xref"
                                      " order by 1 limit 1").fetchone()
    line = next(r for r in tiny.salesforce["OpportunityLineItem"] if r["OpportunityId"] == opp_id)
    put_sf(conn, "OpportunityLineItem", [{**line, "Quantity": line["Quantity"] + 1,
                                          "TotalPrice": line["TotalPrice"] + line["UnitPrice"]}])
    before = Decimal(str(sandbox.qbo.entities["Invoice"][invoice_id]["TotalAmt"]))

    plan_invoices(conn, settings, as_of=tiny.as_of)  # disabled: recorded only
    assert send_outbox(db_url, client, max_attempts=3, run_id="off").updated == 0
    assert conn.execute("select count(*) from sync.invoice_drift where sf_opportunity_id = %s"
                        " and resolved_at is null", [opp_id]).fetchone()[0] >= 1

    settings.loads.update_changed_invoices = True
    plan_invoices(conn, settings, as_of=tiny.as_of)
    result = send_outbox(db_url, client, max_attempts=3, run_id="on")
    assert result.updated == 1 and result.failed == 0
    after = sandbox.qbo.entities["Invoice"][invoice_id]
    assert Decimal(str(after["TotalAmt"])) == before + line["UnitPrice"]
    # The same change is never sent twice, and once re-extracted there is no drift left.
    extract_qbo(conn, client, entities=("Invoice",))
    plan_invoices(conn, settings, as_of=tiny.as_of)
    assert send_outbox(db_url, client, max_attempts=3, run_id="again").batches == 0
    assert conn.execute("select count(*) from sync.invoice_drift where sf_opportunity_id = %s"
                        " and resolved_at is null", [opp_id]).fetchone()[0] == 0
