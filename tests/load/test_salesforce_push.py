"""Invoice status back to Salesforce: the real clients against both emulators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.load.sf_push import RunBudget, push_updates
from ledgerlink.load.sf_status import desired_updates
from tests.load.conftest import extract_qbo

SCALE = 600


def push(conn, sf, settings, as_of, **overrides):
    options = {"bulk_threshold": settings.loads.bulk_threshold, "budget_share": settings.loads.salesforce_budget_share,
               "max_attempts": settings.loads.max_attempts, "run_id": "t", "bulk_wait_s": 0.1} | overrides
    return push_updates(conn, sf, desired_updates(conn, as_of=as_of), **options)


def sf_writes(sandbox) -> int:
    return sum(1 for r in sandbox.sf.request_log if r["write"])


def opp(sandbox, opp_id):
    return sandbox.sf.records["Opportunity"][opp_id]


def test_salesforce_fields_follow_qbo(conn, settings, loaded):
    sandbox, qbo, sf, dataset = loaded
    result = push(conn, sf, settings, dataset.as_of, bulk_threshold=5)
    assert result.modes.get("Opportunity") == "bulk"
    assert result.failed == 0 and not result.budget_exhausted

    ours = dict(conn.execute("select sf_opportunity_id, qb_invoice_id from sync.invoice_xref").fetchall())
    assert ours
    for opp_id, invoice_id in ours.items():
        rec, invoice = opp(sandbox, opp_id), sandbox.qbo.entities["Invoice"][invoice_id]
        assert rec["QBO_Invoice_Id__c"] == invoice_id
        assert rec["QBO_Invoice_Number__c"] == invoice["DocNumber"]
        assert rec["QBO_Invoice_Link__c"].endswith(f"txnId={invoice_id}")
        assert Decimal(str(rec["QBO_Balance_Due__c"])) == Decimal(str(invoice["Balance"]))
        assert rec["QBO_Invoice_Status__c"] in ("Open", "Overdue")
    # Invoices the generator made (with their payments) are reflected too.
    paid = [i for i in sandbox.qbo.entities["Invoice"].values()
            if Decimal(str(i["Balance"])) == 0 and Decimal(str(i["TotalAmt"])) > 0]
    shown = [o for o in sandbox.sf.records["Opportunity"].values() if o.get("QBO_Invoice_Status__c") == "Paid"]
    assert paid and shown
    for rec in shown:
        assert rec["QBO_Balance_Due__c"] == 0 and rec["QBO_Aging_Bucket__c"] is None
        assert rec["QBO_Last_Payment_Date__c"] is not None
    accounts = [a for a in sandbox.sf.records["Account"].values() if a.get("QBO_Customer_Id__c")]
    assert accounts

    # Nothing changed: the next push writes nothing at all.
    writes = sf_writes(sandbox)
    again = push(conn, sf, settings, dataset.as_of)
    assert again.changed == 0 and sf_writes(sandbox) == writes


def test_payments_credits_and_voids_reach_salesforce(conn, settings, loaded):
    sandbox, qbo, sf, dataset = loaded
    push(conn, sf, settings, dataset.as_of)
    ours = conn.execute("select sf_opportunity_id, qb_invoice_id from sync.invoice_xref order by 1").fetchall()
    assert len(ours) >= 4
    (partial_opp, partial_id), (full_opp, full_id), (void_opp, void_id), (credit_opp, credit_id) = ours[:4]
    inv = sandbox.qbo.entities["Invoice"]

    def pay(invoice_id, amount):
        customer = inv[invoice_id]["CustomerRef"]["value"]
        qbo.request("POST", "payment", {"CustomerRef": {"value": customer}, "TotalAmt": amount,
                                        "TxnDate": dataset.as_of.isoformat(),
                                        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id,
                                                                                   "TxnType": "Invoice"}]}]},
                    request_id=f"pay-{invoice_id}-{amount}")

    half = float(Decimal(str(inv[partial_id]["TotalAmt"])) / 2)
    pay(partial_id, half)
    pay(full_id, float(inv[full_id]["TotalAmt"]))
    qbo.request("POST", "invoice", {"Id": void_id, "SyncToken": inv[void_id]["SyncToken"]},
                params={"operation": "void"}, request_id=f"void-{void_id}")
    # A credit memo for the whole invoice, applied to it (a Payment of 0 linking both).
    credited = inv[credit_id]
    total = float(credited["TotalAmt"])
    memo = qbo.request("POST", "creditmemo", {
        "CustomerRef": credited["CustomerRef"], "InvoiceRef": {"value": credit_id},
        "Line": [{"Amount": total, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": credited["Line"][0]["SalesItemLineDetail"]["ItemRef"]}}]},
        request_id=f"credit-{credit_id}")["CreditMemo"]
    qbo.request("POST", "payment", {
        "CustomerRef": credited["CustomerRef"], "TotalAmt": 0, "TxnDate": dataset.as_of.isoformat(),
        "Line": [{"Amount": total, "LinkedTxn": [{"TxnId": credit_id, "TxnType": "Invoice"}]},
                 {"Amount": total, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}]},
        request_id=f"apply-{credit_id}")
    extract_qbo(conn, qbo)

    result = push(conn, sf, settings, dataset.as_of)
    assert result.pushed.get("Opportunity") == 4
    assert opp(sandbox, partial_opp)["QBO_Invoice_Status__c"] in ("Partially Paid", "Overdue")
    assert float(opp(sandbox, partial_opp)["QBO_Amount_Paid__c"]) == half
    assert str(opp(sandbox, partial_opp)["QBO_Last_Payment_Date__c"]) == dataset.as_of.isoformat()
    assert opp(sandbox, full_opp)["QBO_Invoice_Status__c"] == "Paid"
    assert opp(sandbox, full_opp)["QBO_Balance_Due__c"] == 0
    assert opp(sandbox, void_opp)["QBO_Invoice_Status__c"] == "Voided"
    assert opp(sandbox, credit_opp)["QBO_Invoice_Status__c"] == "Credited"
    assert opp(sandbox, credit_opp)["QBO_Amount_Paid__c"] == 0
    account = sandbox.sf.records["Opportunity"][full_opp]["AccountId"]
    balances = sum(Decimal(str(i["Balance"])) for i in inv.values()
                   if i["CustomerRef"]["value"] == sandbox.sf.records["Account"][account]["QBO_Customer_Id__c"])
    assert Decimal(str(sandbox.sf.records["Account"][account]["QBO_Open_Balance__c"])) == balances


def test_budget_guard_carries_the_rest_to_the_next_run(conn, settings, loaded):
    sandbox, qbo, sf, dataset = loaded
    starved = push(conn, sf, settings, dataset.as_of, budget_share=0.0001)
    assert starved.budget_exhausted and starved.carried == starved.changed > 0
    assert not any(r["write"] for r in sandbox.sf.request_log)
    full = push(conn, sf, settings, dataset.as_of, run_id="next-night")
    assert full.changed == starved.changed and not full.budget_exhausted
    assert sum(full.pushed.values()) == full.changed


def test_a_quarantined_payment_holds_its_invoice_status_until_released(conn, settings, loaded):
    from ledgerlink.quality.quarantine import reconcile

    sandbox, qbo, sf, dataset = loaded
    push(conn, sf, settings, dataset.as_of)
    opp_id, invoice_id = conn.execute(
        "select sf_opportunity_id, qb_invoice_id from sync.invoice_xref order by 1 limit 1").fetchone()
    invoice = sandbox.qbo.entities["Invoice"][invoice_id]
    payment = qbo.request("POST", "payment", {
        "CustomerRef": invoice["CustomerRef"], "TotalAmt": float(invoice["TotalAmt"]),
        "TxnDate": dataset.as_of.isoformat(),
        "Line": [{"Amount": float(invoice["TotalAmt"]), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}]},
        request_id=f"held-{invoice_id}")["Payment"]
    extract_qbo(conn, qbo)

    def hold(failing):  # what the payment_applications check does with an over-applied payment
        reconcile(conn, suite="payment_applications", expectation="applied_not_over_total",
                  table_name="staging.qb_payment", column="applied", severity="warning",
                  reason="applies more than the invoice total", failing=failing, run_id="t")

    hold({payment["Id"]: "999999"})
    push(conn, sf, settings, dataset.as_of)
    assert opp(sandbox, opp_id)["QBO_Invoice_Status__c"] != "Paid"  # held: Salesforce keeps the last good state

    hold({})  # the next check finds the payment fine: released
    push(conn, sf, settings, dataset.as_of)
    assert opp(sandbox, opp_id)["QBO_Invoice_Status__c"] == "Paid"


def test_one_budget_per_run_shared_by_its_salesforce_steps(conn, settings, loaded):
    sandbox, qbo, sf, dataset = loaded
    # The status push and the field sync of one run draw on one budget, taken at the run's start.
    first = RunBudget(sf, 0.5, conn, "night-1")
    assert first.allows(first.allowed) and not first.allows(first.allowed + 1)
    first.calls = first.allowed - 2  # the status push spent all but two requests
    first.record()
    second = RunBudget(sf, 0.5, conn, "night-1")  # the field sync, later in the same run
    assert (second.allowed, second.remaining_before) == (first.allowed, first.remaining_before)
    assert second.allows(1) and not second.allows(2)  # its own /limits call came out of the two
    second.record()
    # So a push in that run finds the budget spent and carries its records to the next run.
    late = push(conn, sf, settings, dataset.as_of, run_id="night-1")
    assert late.budget_exhausted and late.carried == late.changed > 0
    assert not any(r["write"] for r in sandbox.sf.request_log)
    # The next run has a budget of its own.
    assert push(conn, sf, settings, dataset.as_of, run_id="night-2").carried == 0


@pytest.mark.parametrize("bulk_threshold", [10_000, 0], ids=["collections", "bulk"])
def test_a_refused_field_is_named_in_the_dead_letter(conn, settings, loaded, bulk_threshold):
    from ledgerlink.load.sf_status import Update

    sandbox, qbo, sf, dataset = loaded
    account, other = sorted(sandbox.sf.records["Account"])[:2]
    too_long = "Net 30 unless agreed otherwise in writing"  # the field holds 31 characters
    updates = [Update("Account", account, {"QBO_Payment_Terms__c": too_long}),
               Update("Account", other, {"QBO_Payment_Terms__c": "Net 30"})]
    result = push_updates(conn, sf, updates, bulk_threshold=bulk_threshold, budget_share=0.5, max_attempts=3,
                          run_id=f"refused-{bulk_threshold}", bulk_wait_s=0.1)
    assert result.failed == 1 and sandbox.sf.records["Account"][other]["QBO_Payment_Terms__c"] == "Net 30"
    code, message = conn.execute("select error_code, error_message from sync.dead_letter where source_id = %s",
                                 (account,)).fetchone()
    assert code == "STRING_TOO_LONG"
    assert message.endswith("(field: QBO_Payment_Terms__c)"), message
