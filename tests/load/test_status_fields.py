"""The invoice status fields LedgerLink writes to Salesforce, checked value by value.

Every expected value here is worked out in the test from what the QBO emulator holds (invoice
dates, totals, balances and the payments applied to it) and the as-of date, by the issue's rules:
status Open / Partially Paid / Paid / Overdue / Voided; aging buckets Current, 1-30, 31-60, 61-90,
91+ days past the *due* date; days outstanding counted from the invoice date (to the as-of date
while money is owed, to the last payment once it is paid). Nothing here calls the production
status functions to get an expected value.
"""

from __future__ import annotations

import copy
import math
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledgerlink.load.sf_push import COLLECTION_SIZE, push_updates
from ledgerlink.load.sf_status import desired_updates
from sandbox.salesforce.ids import IdFactory
from tests.load.conftest import extract_qbo, link_truth, load_dataset, sf_client, tiny_dataset

SCALE = 600
_runs = iter(range(10_000))


def push(conn, sf, settings, as_of, updates=None, **overrides):
    options = {"bulk_threshold": 10_000, "budget_share": settings.loads.salesforce_budget_share,
               "max_attempts": settings.loads.max_attempts, "run_id": f"run-{next(_runs)}",
               "bulk_wait_s": 0.1} | overrides
    if updates is None:
        updates = desired_updates(conn, as_of=as_of)
    return push_updates(conn, sf, updates, **options)


# ---- what the fields should say, from the QBO emulator's own records ---------------------------


def _d(value) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def applied_payments(company, invoice_id: str) -> list[tuple[date, Decimal]]:
    """(date, amount) of money received against an invoice (not zero-total credit applications)."""
    out = []
    for payment in company.entities.get("Payment", {}).values():
        if Decimal(str(payment.get("TotalAmt") or 0)) == 0:
            continue
        for line in payment.get("Line", []):
            for linked in line.get("LinkedTxn", []):
                if linked.get("TxnType") == "Invoice" and str(linked.get("TxnId")) == invoice_id:
                    out.append((_d(payment["TxnDate"]), Decimal(str(line["Amount"]))))
    return out


def bucket_for(days_past_due: int) -> str:
    for ceiling, name in ((0, "Current"), (30, "1-30"), (60, "31-60"), (90, "61-90")):
        if days_past_due <= ceiling:
            return name
    return "91+"


def expected_fields(company, invoice_id: str, as_of: date) -> dict:
    inv = company.entities["Invoice"][invoice_id]
    txn, due = _d(inv["TxnDate"]), _d(inv.get("DueDate")) or _d(inv["TxnDate"])
    total, balance = Decimal(str(inv["TotalAmt"])), Decimal(str(inv["Balance"]))
    payments = applied_payments(company, invoice_id)
    paid = sum((a for _, a in payments), Decimal(0))
    last = max((d for d, a in payments if a > 0), default=None)
    if total == 0 and (inv.get("PrivateNote") or "").startswith("Voided"):
        return {"QBO_Invoice_Status__c": "Voided", "QBO_Balance_Due__c": 0, "QBO_Amount_Paid__c": 0,
                "QBO_Days_Outstanding__c": None, "QBO_Aging_Bucket__c": None}
    if balance == 0:
        return {"QBO_Invoice_Status__c": "Paid", "QBO_Balance_Due__c": 0, "QBO_Amount_Paid__c": _money(paid),
                "QBO_Days_Outstanding__c": (last - txn).days, "QBO_Aging_Bucket__c": None}
    past_due = (as_of - due).days
    status = "Overdue" if past_due > 0 else "Partially Paid" if balance < total else "Open"
    return {"QBO_Invoice_Status__c": status, "QBO_Balance_Due__c": _money(balance),
            "QBO_Amount_Paid__c": _money(paid), "QBO_Days_Outstanding__c": (as_of - txn).days,
            "QBO_Aging_Bucket__c": bucket_for(past_due)}


def shown(sandbox, opp_id: str) -> dict:
    rec = sandbox.sf.records["Opportunity"][opp_id]
    out = {k: rec.get(k) for k in ("QBO_Invoice_Status__c", "QBO_Aging_Bucket__c")}
    for k in ("QBO_Balance_Due__c", "QBO_Amount_Paid__c"):
        out[k] = _money(rec[k]) if rec.get(k) is not None else None
    days = rec.get("QBO_Days_Outstanding__c")
    out["QBO_Days_Outstanding__c"] = int(days) if days is not None else None
    return out


def pay(qbo, company, invoice_id: str, amount: Decimal, on: date) -> None:
    customer = company.entities["Invoice"][invoice_id]["CustomerRef"]
    qbo.request("POST", "payment", {"CustomerRef": customer, "TotalAmt": float(amount), "TxnDate": on.isoformat(),
                                    "Line": [{"Amount": float(amount), "LinkedTxn": [{"TxnId": invoice_id,
                                                                                     "TxnType": "Invoice"}]}]},
                request_id=f"pay-{invoice_id}-{amount}-{on}")


def our_invoices(conn, company, n: int) -> list[tuple[str, str]]:
    """n (opportunity, invoice) pairs LedgerLink created, whose due date is after the invoice date
    (so aging from the due date and days outstanding from the invoice date tell apart)."""
    rows = conn.execute("select sf_opportunity_id, qb_invoice_id from sync.invoice_xref order by 1").fetchall()
    termed = [(o, i) for o, i in rows
              if _d(company.entities["Invoice"][i].get("DueDate")) and
              _d(company.entities["Invoice"][i]["DueDate"]) > _d(company.entities["Invoice"][i]["TxnDate"])]
    assert len(termed) >= n, "the tiny dataset should give enough invoices with payment terms"
    return termed[:n]


# ---- 1. status -----------------------------------------------------------------------------------


def test_each_status_is_exact_for_an_as_of_that_decides_it(conn, settings, loaded):
    sandbox, qbo, sf, dataset = loaded
    company = sandbox.qbo
    (partial_opp, partial), (full_opp, full), (void_opp, void), (unpaid_opp, unpaid) = our_invoices(conn, company, 4)
    inv = company.entities["Invoice"]
    txn = {i: _d(inv[i]["TxnDate"]) for i in (partial, full, void, unpaid)}
    due = {i: _d(inv[i]["DueDate"]) for i in (partial, full, void, unpaid)}

    third = (Decimal(str(inv[partial]["TotalAmt"])) / 3).quantize(Decimal("0.01"))
    pay(qbo, company, partial, third, txn[partial])
    pay(qbo, company, full, Decimal(str(inv[full]["TotalAmt"])), txn[full] + timedelta(days=7))
    qbo.request("POST", "invoice", {"Id": void, "SyncToken": inv[void]["SyncToken"]},
                params={"operation": "void"}, request_id=f"void-{void}")
    extract_qbo(conn, qbo)

    # On its due date the partly paid invoice is not overdue yet: Partially Paid, nothing else.
    on_due = due[partial]
    result = push(conn, sf, settings, on_due)
    assert result.failed == 0 and result.dead == 0 and not result.budget_exhausted
    assert shown(sandbox, partial_opp)["QBO_Invoice_Status__c"] == "Partially Paid"
    assert shown(sandbox, partial_opp)["QBO_Aging_Bucket__c"] == "Current"
    assert shown(sandbox, partial_opp)["QBO_Amount_Paid__c"] == third
    assert shown(sandbox, partial_opp)["QBO_Balance_Due__c"] == _money(inv[partial]["TotalAmt"]) - third
    assert shown(sandbox, full_opp)["QBO_Invoice_Status__c"] == "Paid"
    assert shown(sandbox, void_opp)["QBO_Invoice_Status__c"] == "Voided"
    for opp_id, invoice_id in ((partial_opp, partial), (full_opp, full), (void_opp, void), (unpaid_opp, unpaid)):
        assert shown(sandbox, opp_id) == expected_fields(company, invoice_id, on_due), opp_id

    # Long after every due date: the unpaid and the partly paid one are Overdue; Paid and Voided stay.
    late = max(due.values()) + timedelta(days=45)
    push(conn, sf, settings, late)
    assert shown(sandbox, unpaid_opp)["QBO_Invoice_Status__c"] == "Overdue"
    assert shown(sandbox, partial_opp)["QBO_Invoice_Status__c"] == "Overdue"
    assert shown(sandbox, full_opp)["QBO_Invoice_Status__c"] == "Paid"
    assert shown(sandbox, full_opp)["QBO_Days_Outstanding__c"] == 7  # invoice date to the payment
    assert shown(sandbox, void_opp) == {"QBO_Invoice_Status__c": "Voided", "QBO_Aging_Bucket__c": None,
                                        "QBO_Balance_Due__c": 0, "QBO_Amount_Paid__c": 0,
                                        "QBO_Days_Outstanding__c": None}
    for opp_id, invoice_id in ((partial_opp, partial), (full_opp, full), (void_opp, void), (unpaid_opp, unpaid)):
        assert shown(sandbox, opp_id) == expected_fields(company, invoice_id, late), opp_id
    # An unpaid invoice before its due date is plain Open.
    push(conn, sf, settings, txn[unpaid])
    assert shown(sandbox, unpaid_opp)["QBO_Invoice_Status__c"] == "Open"


# ---- 2. days outstanding and aging --------------------------------------------------------------


@pytest.mark.parametrize("past_due, bucket", [
    (-3, "Current"), (0, "Current"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
    (61, "61-90"), (90, "61-90"), (91, "91+"), (400, "91+"),
])
def test_days_outstanding_and_aging_bucket_on_the_opportunity(conn, settings, loaded, past_due, bucket):
    sandbox, qbo, sf, dataset = loaded
    company = sandbox.qbo
    [(opp_id, invoice_id)] = our_invoices(conn, company, 1)
    inv = company.entities["Invoice"][invoice_id]
    txn, due = _d(inv["TxnDate"]), _d(inv["DueDate"])
    as_of = due + timedelta(days=past_due)

    assert push(conn, sf, settings, as_of).failed == 0
    rec = shown(sandbox, opp_id)
    assert rec["QBO_Aging_Bucket__c"] == bucket == bucket_for((as_of - due).days)
    # Days outstanding counts from the invoice date, not the due date.
    assert rec["QBO_Days_Outstanding__c"] == (as_of - txn).days == (due - txn).days + past_due
    assert rec["QBO_Invoice_Status__c"] == ("Overdue" if past_due > 0 else "Open")
    assert rec == expected_fields(company, invoice_id, as_of)


# ---- 3. account balances ------------------------------------------------------------------------


def test_account_open_and_overdue_balances_are_the_sums_of_its_customers_invoices(conn, settings, loaded):
    sandbox, qbo, sf, dataset = loaded
    company = sandbox.qbo
    [(_opp, invoice_id)] = our_invoices(conn, company, 1)
    inv = company.entities["Invoice"]
    ours = inv[invoice_id]
    # Pay part of it, so balances differ from totals; and give its customer an older invoice,
    # past due on the day ours falls due (ours, due that day, is not overdue yet).
    pay(qbo, company, invoice_id, Decimal("10.00"), _d(ours["TxnDate"]))
    older = _d(ours["DueDate"]) - timedelta(days=75)
    qbo.request("POST", "invoice", {
        "CustomerRef": ours["CustomerRef"], "CurrencyRef": ours["CurrencyRef"], "DocNumber": "OLD-1",
        "TxnDate": (older - timedelta(days=30)).isoformat(), "DueDate": older.isoformat(),
        "Line": [{"Amount": 321.45, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": ours["Line"][0]["SalesItemLineDetail"]["ItemRef"],
                                          "Qty": 1, "UnitPrice": 321.45}}]}, request_id=f"older-{invoice_id}")
    extract_qbo(conn, qbo)

    links: dict[str, set[str]] = {}
    for account, customer in conn.execute("select sf_account_id, qb_customer_id from sync.customer_xref"
                                          " where qb_customer_id is not null").fetchall():
        links.setdefault(account, set()).add(customer)

    def owing(account):
        return [i for i in inv.values() if i["CustomerRef"]["value"] in links[account]
                and Decimal(str(i["Balance"])) > 0 and Decimal(str(i["TotalAmt"])) > 0]

    def due_of(i):
        return _d(i.get("DueDate")) or _d(i["TxnDate"])

    as_of = _d(ours["DueDate"])
    assert push(conn, sf, settings, as_of).failed == 0

    checked = mixed = 0
    for account in sorted(links):
        # Voided invoices have TotalAmt and Balance 0, so they never count.
        mine = owing(account)
        # Mixed currencies are summed in home currency (document amount x ExchangeRate).
        rate = (lambda i: Decimal(str(i.get("ExchangeRate") or 1))) if len({
            i["CurrencyRef"]["value"] for i in mine}) > 1 else (lambda i: Decimal(1))
        open_total = sum((Decimal(str(i["Balance"])) * rate(i) for i in mine), Decimal(0))
        overdue = sum((Decimal(str(i["Balance"])) * rate(i) for i in mine if due_of(i) < as_of), Decimal(0))
        rec = sandbox.sf.records["Account"][account]
        assert _money(rec["QBO_Open_Balance__c"]) == _money(open_total), account
        assert _money(rec["QBO_Overdue_Balance__c"]) == _money(overdue), account
        checked += 1
        mixed += 0 < overdue < open_total
    assert checked >= 5
    assert mixed, "some account should owe both overdue and not-yet-due money"

    # The partly paid invoice's customer: its balance moved by exactly the payment.
    customer = inv[invoice_id]["CustomerRef"]["value"]
    account = next(a for a, cs in links.items() if customer in cs)
    before = _money(sandbox.sf.records["Account"][account]["QBO_Open_Balance__c"])
    pay(qbo, company, invoice_id, Decimal("5.00"), _d(inv[invoice_id]["TxnDate"]))
    extract_qbo(conn, qbo)
    assert push(conn, sf, settings, as_of).failed == 0
    after = _money(sandbox.sf.records["Account"][account]["QBO_Open_Balance__c"])
    if len({i["CurrencyRef"]["value"] for i in owing(account)}) <= 1:
        assert before - after == Decimal("5.00")


# ---- 4. a record Salesforce refuses --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["collections", "bulk"])
def test_a_record_deleted_in_salesforce_goes_to_dead_letters_and_the_rest_is_written(conn, settings, loaded, mode):
    sandbox, qbo, sf, dataset = loaded
    updates = desired_updates(conn, as_of=dataset.as_of)  # planned while the opportunity still exists
    opps = [u for u in updates if u.object == "Opportunity"]
    assert len(opps) >= 3
    gone = opps[1].record_id
    sf.call(lambda s: s.Opportunity.delete(gone))  # somebody deletes it before the push

    result = push(conn, sf, settings, dataset.as_of, updates=updates,
                  bulk_threshold=1 if mode == "bulk" else 10_000)
    assert result.modes["Opportunity"] == mode
    assert result.failed + result.dead == 1
    assert result.pushed["Opportunity"] == len(opps) - 1
    assert result.pushed["Account"] == len(updates) - len(opps)

    rows = conn.execute("select key, target, entity, source_id, error_code, error_message, status, attempts"
                        " from sync.dead_letter where target = 'salesforce'").fetchall()
    assert len(rows) == 1
    key, target, entity, source_id, code, message, status, attempts = rows[0]
    assert (key, entity, source_id) == (f"salesforce:Opportunity:{gone}", "Opportunity", gone)
    assert code == "ENTITY_IS_DELETED" and "deleted" in message.lower()
    assert status in ("retrying", "exhausted") and attempts == 1
    # Everyone else carries the values that were planned for them.
    for u in updates:
        if u.record_id == gone:
            continue
        rec = sandbox.sf.records[u.object][u.record_id]
        for name, value in u.fields.items():
            got = rec.get(name)
            if isinstance(value, float):
                assert _money(got) == _money(value), (u.record_id, name)
            elif name == "QBO_Days_Outstanding__c" and value is not None:
                assert int(got) == value, (u.record_id, name)
            else:
                assert (str(got) if got is not None else None) == (str(value) if value is not None else None), (
                    u.record_id, name)


# ---- 5. more than 200 records through sObject Collections ---------------------------------------


def _with_many_invoiced_opportunities(dataset, count: int):
    """The tiny dataset plus `count` Closed Won opportunities, each with a QBO invoice that names
    it in its PrivateNote (the link rule), all for one linked account/customer."""
    account, customer = dataset.truth.customer_links[0]
    template_opp = next(o for o in dataset.salesforce["Opportunity"] if o["StageName"] == "Closed Won")
    template_inv = next(i for i in dataset.qbo["Invoice"] if Decimal(str(i["TotalAmt"])) > 0)
    ids = IdFactory(pod="Zq")
    next_id = max(int(e["Id"]) for entities in dataset.qbo.values() for e in entities if str(e["Id"]).isdigit())
    for n in range(count):
        opp = copy.deepcopy(template_opp)
        opp.update(Id=ids.new("006"), AccountId=account, Name=f"Bulk deal {n}", QBO_Invoice_Id__c=None)
        inv = copy.deepcopy(template_inv)
        inv.pop("LinkedTxn", None)
        inv.update(Id=str(next_id + 1 + n), DocNumber=f"Z{n}", PrivateNote=f"SF opp {opp['Id']}", SyncToken="0",
                   CustomerRef={"value": customer}, TotalAmt=Decimal("100.00"), Balance=Decimal("100.00"),
                   HomeTotalAmt=Decimal("100.00"), TxnDate=dataset.as_of.isoformat(),
                   DueDate=(dataset.as_of + timedelta(days=30)).isoformat())
        inv["Line"] = [dict(copy.deepcopy(template_inv["Line"][0]), Amount=Decimal("100.00"))]
        dataset.salesforce["Opportunity"].append(opp)
        dataset.qbo["Invoice"].append(inv)
    return dataset


def test_more_than_200_records_go_in_collections_of_at_most_200(conn, settings, sandbox_factory):
    dataset = _with_many_invoiced_opportunities(tiny_dataset(), 230)
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE)
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    sf = sf_client(sandbox.env)
    updates = desired_updates(conn, as_of=dataset.as_of)
    n_opp = sum(1 for u in updates if u.object == "Opportunity")
    n_acc = len(updates) - n_opp
    assert n_opp > COLLECTION_SIZE

    result = push(conn, sf, settings, dataset.as_of, updates=updates)
    assert result.modes == {"Opportunity": "collections", "Account": "collections"}
    assert result.failed == 0 and result.dead == 0 and not result.budget_exhausted
    assert result.pushed == {"Opportunity": n_opp, "Account": n_acc}

    calls = [r for r in sandbox.sf.request_log if r["path"].endswith("/composite/sobjects")]
    assert all(r["method"] == "PATCH" and r["status"] == 200 for r in calls)
    # The sandbox refuses a collection of more than 200 records (EXCEEDED_ID_LIMIT), so 200 OK
    # answers also prove each call carried at most 200.
    assert len(calls) == math.ceil(n_opp / COLLECTION_SIZE) + math.ceil(n_acc / COLLECTION_SIZE)
    assert len(calls) >= 3
    opps = sandbox.sf.records["Opportunity"]
    made = [o for o in opps.values() if o["Name"].startswith("Bulk deal ")]
    assert len(made) == 230
    assert all(o["QBO_Invoice_Status__c"] == "Open" and o["QBO_Balance_Due__c"] == 100 for o in made)
    assert all(o["QBO_Aging_Bucket__c"] == "Current" and o["QBO_Days_Outstanding__c"] == 0 for o in made)
