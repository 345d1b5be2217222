"""The planner: Closed Won opportunities -> outbox rows, against a real Postgres."""

from __future__ import annotations

from decimal import Decimal

from ledgerlink.load import keys
from ledgerlink.load.planner import plan_invoices
from tests.load.conftest import ACME, AS_OF, GLOBEX, INITECH, OPP_ACME, OPP_GLOBEX, OPP_INITECH, OPP_OPEN
from tests.load.staging import put_qbo, put_sf


def outbox(conn) -> dict[str, dict]:
    cur = conn.execute("select idempotency_key, status, payload, flags, depends_on, hold_reason, phase from sync.outbox")
    return {r[0]: {"status": r[1], "payload": r[2], "flags": r[3], "depends_on": r[4], "hold_reason": r[5],
                   "phase": r[6]} for r in cur.fetchall()}


def test_plans_one_invoice_per_closed_won_opportunity(world, settings):
    result = plan_invoices(world, settings, as_of=AS_OF, run_id="r1")
    rows = outbox(world)
    assert set(rows) == {keys.invoice_key(OPP_ACME), keys.invoice_key(OPP_GLOBEX), keys.invoice_key(OPP_INITECH),
                         keys.customer_key(GLOBEX)}
    assert keys.invoice_key(OPP_OPEN) not in rows

    acme = rows[keys.invoice_key(OPP_ACME)]
    assert acme["status"] == "pending" and acme["phase"] == 2
    body = acme["payload"]
    assert body["CustomerRef"] == {"value": "1"}
    assert body["DocNumber"] == f"SF-{OPP_ACME}" and len(body["DocNumber"]) <= 21
    assert OPP_ACME in body["PrivateNote"]
    # QBO wins payment terms: Acme's customer has Net 15.
    assert body["SalesTermRef"] == {"value": "4"}
    assert body["TxnDate"] == "2026-11-02" and body["DueDate"] == "2026-11-17"
    assert [(ln["SalesItemLineDetail"]["ItemRef"]["value"], ln["Amount"]) for ln in body["Line"]] == [
        ("11", 200), ("12", 50)]
    # Gadget has no QBO item: the fallback item is used and the row is flagged.
    assert any(f.startswith("fallback_item:Gadget") for f in acme["flags"])
    assert result.counts()["invoices_planned"] == 2


def test_new_customer_is_planned_first_and_invoice_waits_for_it(world, settings):
    plan_invoices(world, settings, as_of=AS_OF)
    rows = outbox(world)
    customer = rows[keys.customer_key(GLOBEX)]
    assert customer["phase"] == 1 and customer["status"] == "pending"
    assert customer["payload"]["DisplayName"] == "Globex Ltd"  # whitespace normalised
    assert customer["payload"]["CurrencyRef"] == {"value": "GBP"}
    assert customer["payload"]["PrimaryEmailAddr"] == {"Address": "ap@globex.example"}
    invoice = rows[keys.invoice_key(OPP_GLOBEX)]
    assert invoice["depends_on"] == keys.customer_key(GLOBEX)
    assert invoice["payload"]["CustomerRef"] == {"value": None}
    assert invoice["payload"]["CurrencyRef"] == {"value": "GBP"}
    assert Decimal(str(invoice["payload"]["ExchangeRate"])) == Decimal("1.27")
    # Discounted line: 10 x 120 listed, 1000 total -> effective unit price so Qty x UnitPrice = Amount.
    line = invoice["payload"]["Line"][0]
    assert line["Amount"] == 1000 and line["SalesItemLineDetail"]["Qty"] == 10
    assert line["SalesItemLineDetail"]["UnitPrice"] == 100


def test_probable_match_waits_for_review_and_creates_no_customer(world, settings):
    plan_invoices(world, settings, as_of=AS_OF)
    rows = outbox(world)
    assert keys.customer_key(INITECH) not in rows
    held = rows[keys.invoice_key(OPP_INITECH)]
    assert held["status"] == "held" and "awaits match review" in held["hold_reason"]
    # Once a person links the account, the next plan releases the invoice.
    world.execute("update sync.match_review set status = 'decided'")
    world.execute("insert into sync.customer_xref (sf_account_id, qb_customer_id, method) values (%s, '2', 'manual')",
                  [INITECH])
    plan_invoices(world, settings, as_of=AS_OF)
    released = outbox(world)[keys.invoice_key(OPP_INITECH)]
    assert released["status"] == "pending" and released["payload"]["CustomerRef"] == {"value": "2"}


def test_replanning_is_idempotent(world, settings):
    first = plan_invoices(world, settings, as_of=AS_OF)
    assert first.written == 4
    second = plan_invoices(world, settings, as_of=AS_OF)
    assert second.written == 0 and second.withdrawn == []
    assert world.execute("select count(*) from sync.outbox").fetchone()[0] == 4


def test_invoice_referencing_the_opportunity_counts_as_invoiced(world, settings):
    # A bookkeeper keyed the invoice by hand and pasted the opportunity Id in the memo; even voided.
    put_qbo(world, "Invoice", [{"Id": "900", "DocNumber": "1001", "CustomerRef": {"value": "1"}, "TxnDate": "2026-11-03",
                                "TotalAmt": 0, "Balance": 0, "PrivateNote": f"Voided - deal {OPP_ACME}",
                                "SyncToken": "1", "Line": []}])
    result = plan_invoices(world, settings, as_of=AS_OF)
    assert keys.invoice_key(OPP_ACME) not in outbox(world)
    assert result.already_invoiced == 1


def test_unsent_row_is_withdrawn_when_the_opportunity_leaves_closed_won(world, settings):
    plan_invoices(world, settings, as_of=AS_OF)
    put_sf(world, "Opportunity", [{"Id": OPP_ACME, "Name": "Acme renewal", "AccountId": ACME,
                                   "StageName": "Closed Lost", "CloseDate": AS_OF, "Amount": Decimal(250)}])
    result = plan_invoices(world, settings, as_of=AS_OF)
    assert result.withdrawn == [keys.invoice_key(OPP_ACME)]
    assert outbox(world)[keys.invoice_key(OPP_ACME)]["status"] == "held"


def test_configured_stage_names_and_code_mapping(world, settings):
    settings.loads.closed_won_stages = ["Negotiation"]
    settings.loads.item_mapping.match_by = "code"
    plan_invoices(world, settings, as_of=AS_OF)
    rows = outbox(world)
    assert set(rows) == {keys.invoice_key(OPP_OPEN)}
    assert rows[keys.invoice_key(OPP_OPEN)]["flags"] == ["no_line_items"]


def test_missing_exchange_rate_is_held_with_the_reason(world, settings):
    settings.reports.exchange_rates = {"USD": Decimal(1)}
    plan_invoices(world, settings, as_of=AS_OF)
    row = outbox(world)[keys.invoice_key(OPP_GLOBEX)]
    assert row["status"] == "held"
    assert OPP_GLOBEX in row["hold_reason"] and "GBP" in row["hold_reason"]


def test_changed_opportunity_is_reported_not_rewritten(world, settings):
    world.execute("insert into sync.invoice_xref (sf_opportunity_id, qb_invoice_id, doc_number) values (%s, '500', %s)",
                  [OPP_ACME, keys.doc_number(OPP_ACME)])
    put_qbo(world, "Invoice", [{
        "Id": "500", "DocNumber": keys.doc_number(OPP_ACME), "CustomerRef": {"value": "1"}, "TxnDate": "2026-11-02",
        "TotalAmt": 250, "Balance": 250, "CurrencyRef": {"value": "USD"}, "SyncToken": "0",
        "PrivateNote": f"Salesforce Opportunity {OPP_ACME}",
        "Line": [{"Amount": 200, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "11"}}},
                 {"Amount": 50, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "12"}}}],
    }])
    plan_invoices(world, settings, as_of=AS_OF)
    assert world.execute("select count(*) from sync.invoice_drift where resolved_at is null").fetchone()[0] == 0

    put_sf(world, "OpportunityLineItem", [{"Id": "00k000000000002AAA", "OpportunityId": OPP_ACME, "Product2Id": "x",
                                           "Name": "Gadget", "Quantity": Decimal(2), "UnitPrice": Decimal(50),
                                           "TotalPrice": Decimal(100)}])
    plan_invoices(world, settings, as_of=AS_OF)
    drift = world.execute("select field, sf_value, qb_value from sync.invoice_drift where resolved_at is null"
                          " order by field").fetchall()
    assert [d[0] for d in drift] == ["amount", "lines"]
    assert drift[0][1:] == ("300.00", "250.00")
    assert not [k for k in outbox(world) if k.startswith("invoice-update:")]

    settings.loads.update_changed_invoices = True
    plan_invoices(world, settings, as_of=AS_OF)
    updates = {k: v for k, v in outbox(world).items() if k.startswith("invoice-update:")}
    assert len(updates) == 1
    (update,) = updates.values()
    assert update["payload"]["Id"] == "500" and update["payload"]["sparse"] is True
    assert update["payload"]["SyncToken"] == "0"
    assert sum(line["Amount"] for line in update["payload"]["Line"]) == 300


def test_duplicate_accounts_of_one_company_get_one_new_customer(world, settings):
    """The matcher clusters duplicate accounts; a new company gets one QBO customer, not one per account."""
    twin = "001000000000004AAA"
    opp_twin = "006000000000005AAA"
    put_sf(world, "Account", [{"Id": twin, "Name": "Globex Limited", "BillingCity": "London"}])
    put_sf(world, "Opportunity", [{"Id": opp_twin, "Name": "Globex add-on", "AccountId": twin,
                                   "StageName": "Closed Won", "CloseDate": AS_OF, "Amount": Decimal(50),
                                   "CurrencyIsoCode": "GBP"}])
    for account in (GLOBEX, twin):
        world.execute("insert into sync.customer_match_status (sf_account_id, status, sf_cluster_id)"
                      " values (%s, 'new', %s)", [account, GLOBEX])
    world.execute("insert into sync.customer_match_status (sf_account_id, status, qb_customer_id, sf_cluster_id)"
                  " values (%s, 'pending_review', '2', null)", [INITECH])
    plan_invoices(world, settings, as_of=AS_OF)
    rows = outbox(world)
    customers = [k for k in rows if k.startswith("customer:")]
    assert customers == [keys.customer_key(GLOBEX)]
    assert rows[keys.invoice_key(OPP_GLOBEX)]["depends_on"] == keys.customer_key(GLOBEX)
    assert rows[keys.invoice_key(opp_twin)]["depends_on"] == keys.customer_key(GLOBEX)
    assert rows[keys.invoice_key(OPP_INITECH)]["status"] == "held"
