"""The QBO emulator through the real clients (intuit-oauth, python-quickbooks) over HTTPS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from quickbooks import exceptions as qbx
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.term import Term


def _raw(sandbox, auth, method, path, *, params=None, data=None, headers=None, token=None):
    """A plain HTTPS request to the API (for what python-quickbooks hides: statuses, headers)."""
    h = {"Authorization": f"Bearer {token or auth.access_token}", "Accept": "application/json"}
    h.update(headers or {})
    url = f"{sandbox.env['LEDGERLINK_QBO_API_URL']}/company/{sandbox.settings.realm_id}/{path}"
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, url, params=params, data=data, headers=h, verify=sandbox.ca_path)


def _ref(value, name=""):
    ref = Ref()
    ref.value = value
    ref.name = name
    return ref


def _invoice(customer="1", amount=100, item="2", doc=None, note=None):
    invoice = Invoice()
    invoice.CustomerRef = _ref(customer)
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = _ref(item)
    invoice.Line.append(line)
    if doc is not None:
        invoice.DocNumber = doc
    if note is not None:
        invoice.PrivateNote = note
    return invoice


def _payment(customer, total, applications):
    payment = Payment()
    payment.CustomerRef = _ref(customer)
    payment.TotalAmt = total
    for invoice_id, amount in applications:
        line = PaymentLine()
        line.Amount = amount
        link = LinkedTxn()
        link.TxnId = invoice_id
        link.TxnType = "Invoice"
        line.LinkedTxn.append(link)
        payment.Line.append(line)
    return payment


def _fault_code(excinfo) -> int:
    return int(excinfo.value.error_code)


@pytest.fixture
def qbo(qbo_sandbox, qbo_connect):
    auth, qb = qbo_connect(qbo_sandbox)
    # The tests below fire requests back to back without a client-side limiter; only the
    # throttle tests switch the 10-per-second window back on.
    qbo_sandbox.qbo.throttle.per_second = 0
    yield qbo_sandbox, auth, qb
    statuses = [entry["status"] for entry in qbo_sandbox.qbo.request_log]
    assert 500 not in statuses, "the emulator answered 500 (a bug) during the test"


# ---- OAuth and tokens ------------------------------------------------------------------------------


def test_refresh_rotates_and_old_token_works_only_within_grace(sandbox_factory, qbo_connect):
    from intuitlib.client import AuthClient
    from intuitlib.exceptions import AuthClientError

    from sandbox.dataset import Dataset
    from tests.sandbox.conftest import qbo_small_company

    sandbox = sandbox_factory(dataset=Dataset(qbo=qbo_small_company()), qbo_refresh_grace_s=0.0)
    env = sandbox.env
    first = env["LEDGERLINK_QBO_REFRESH_TOKEN"]
    auth, qb = qbo_connect(sandbox)
    assert auth.refresh_token != first and auth.access_token
    assert auth.expires_in == 3600
    assert len(Customer.all(qb=qb)) == 2
    with pytest.raises(AuthClientError) as err:  # grace 0: the replaced token is dead at once
        auth.refresh(refresh_token=first)
    assert err.value.status_code == 400 and "invalid_grant" in err.value.content.decode()

    wrong = AuthClient(env["LEDGERLINK_QBO_CLIENT_ID"], "not-the-secret", "http://localhost/callback",
                       environment=env["LEDGERLINK_QBO_ENVIRONMENT"])
    with pytest.raises(AuthClientError) as err:
        wrong.refresh(refresh_token=auth.refresh_token)
    assert err.value.status_code == 401


def test_old_refresh_token_keeps_working_during_grace(qbo_sandbox, qbo_connect):
    first = qbo_sandbox.env["LEDGERLINK_QBO_REFRESH_TOKEN"]
    auth, _ = qbo_connect(qbo_sandbox)
    second = auth.refresh_token
    auth.refresh(refresh_token=first)  # default grace (24 h): still accepted, and rotates again
    assert auth.refresh_token not in (first, second)


def test_revoked_refresh_token_is_invalid_grant_and_its_access_tokens_401(qbo):
    from intuitlib.exceptions import AuthClientError

    sandbox, auth, qb = qbo
    token = auth.refresh_token
    assert auth.revoke(token=token)
    with pytest.raises(AuthClientError) as err:
        auth.refresh(refresh_token=token)
    assert "invalid_grant" in err.value.content.decode()
    with pytest.raises(qbx.AuthorizationException):
        Customer.get(1, qb=qb)


def test_expired_access_token_gets_401_3200_then_refresh_works(qbo):
    sandbox, auth, qb = qbo
    sandbox.qbo.expire_access_tokens()
    with pytest.raises(qbx.AuthorizationException) as err:
        Customer.all(qb=qb)
    assert err.value.error_code == 401
    body = json.loads(err.value.detail)
    assert body["fault"]["error"][0]["code"] == "3200"
    assert body["fault"]["type"] == "AUTHENTICATION"
    auth.refresh()
    qb.session.access_token = auth.access_token
    qb.session.token = {"access_token": auth.access_token, "refresh_token": auth.refresh_token}
    assert len(Customer.all(qb=qb)) == 2


def test_token_for_another_realm_is_403_3100(qbo):
    sandbox, auth, qb = qbo
    url = f"{sandbox.env['LEDGERLINK_QBO_API_URL']}/company/1111222233334444/customer/1"
    with requests.Session() as session:
        session.trust_env = False
        response = session.get(url, headers={"Authorization": f"Bearer {auth.access_token}",
                                             "Accept": "application/json"}, verify=sandbox.ca_path)
    assert response.status_code == 403
    assert response.json()["Fault"]["Error"][0]["code"] == "3100"
    assert response.headers["intuit_tid"]


# ---- query -------------------------------------------------------------------------------------------


def test_query_filters_order_paging_and_count(qbo):
    sandbox, auth, qb = qbo
    assert [c.DisplayName for c in Customer.where("DisplayName LIKE 'acme%'", qb=qb)] == ["Acme Corp"]
    assert {i.Id for i in Invoice.where("Id IN ('101', '102')", qb=qb)} == {"101", "102"}
    assert [i.Id for i in Invoice.where("TotalAmt > '60'", qb=qb)] == ["101"]
    assert [i.Id for i in Invoice.where("TxnDate >= '2026-11-02' AND CustomerRef = '1'", qb=qb)] == ["102"]
    assert [i.Id for i in Invoice.where("", order_by="TxnDate DESC", qb=qb)] == ["102", "101"]
    page = Invoice.where("", order_by="Id", start_position=2, max_results=1, qb=qb)
    assert [i.Id for i in page] == ["102"]
    assert Invoice.count(qb=qb) == 2
    assert Invoice.count("Balance > '1000'", qb=qb) == 0
    assert Invoice.where("Balance > '1000'", qb=qb) == []
    items = Item.all(qb=qb)  # sends SELECT *, Sku FROM Item
    assert {i.Name for i in items} == {"Services", "Consulting Hours"}

    raw = qb.query("SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '2026-11-01T00:00:00-08:00'")
    assert raw["QueryResponse"]["startPosition"] == 1
    assert raw["QueryResponse"]["maxResults"] == 2
    assert qb.query("select * from Invoice where DocNumber = 'nope'")["QueryResponse"] == {}
    # GET ?query= works as well as POST application/text
    response = _raw(sandbox, auth, "GET", "query", params={"query": "SELECT COUNT(*) FROM Customer"})
    assert response.json()["QueryResponse"] == {"totalCount": 2}


def test_query_escapes_and_rejections(qbo):
    sandbox, auth, qb = qbo
    customer = Customer()
    customer.DisplayName = "O'Brien \\ Sons"
    customer.save(qb=qb)
    found = Customer.filter(DisplayName="O'Brien \\ Sons", qb=qb)  # PQB escapes only the quote
    assert found == []  # the unescaped backslash escapes the space: not the same string
    found = Customer.where("DisplayName = 'O\\'Brien \\\\ Sons'", qb=qb)
    assert [c.DisplayName for c in found] == ["O'Brien \\ Sons"]

    for bad in (
        "SELECT * FROM Invoice WHERE Id = '101' OR Id = '102'",
        "SELECT * FROM Invoice MAXRESULTS 1001",
        "SELECT * FROM Invoice WHERE PrivateNote = 'x'",  # not filterable
        "SELECT * FROM Nothing",
        "SELECT * FROM Invoice WHERE DocNumber = 'unterminated",
        "DELETE FROM Invoice",
        "SELECT * FROM Invoice WHERE Id != '1'",
    ):
        response = _raw(sandbox, auth, "POST", "query", data=bad.encode(),
                        headers={"Content-Type": "application/text"})
        assert response.status_code == 400, bad
        fault = response.json()["Fault"]
        assert fault["type"] == "ValidationFault" and fault["Error"][0]["code"] == "4000", bad


# ---- create / read / update ----------------------------------------------------------------------


def test_invoice_create_computes_totals_terms_and_balances(qbo):
    sandbox, auth, qb = qbo
    invoice = _invoice(amount=250, note="Opportunity 006000000000002AAA")
    invoice.SalesTermRef = _ref("3")
    invoice.TxnDate = "2026-11-10"
    saved = invoice.save(qb=qb)
    assert saved.TotalAmt == 250 and saved.Balance == 250 and saved.HomeTotalAmt == 250
    assert saved.DueDate == "2026-12-10"  # Net 30 from TxnDate
    assert saved.DocNumber == "1003"  # next auto number
    assert saved.SyncToken == "0"
    assert saved.Line[-1].DetailType == "SubTotalLineDetail" and saved.Line[-1].Amount == 250
    assert sandbox.qbo.entities["Customer"]["1"]["Balance"] == 400  # 150 + 250
    again = Invoice.get(saved.Id, qb=qb)
    assert again.PrivateNote == "Opportunity 006000000000002AAA"

    euro = _invoice(customer="2", amount=100)
    euro.CurrencyRef = _ref("EUR")
    euro.ExchangeRate = 1.08
    saved = euro.save(qb=qb)
    assert saved.CurrencyRef["value"] == "EUR" if isinstance(saved.CurrencyRef, dict) else True
    stored = sandbox.qbo.entities["Invoice"][saved.Id]
    assert float(stored["HomeTotalAmt"]) == 108.0 and float(stored["ExchangeRate"]) == 1.08

    wrong_currency = _invoice(customer="2", amount=10)
    wrong_currency.CurrencyRef = _ref("USD")
    with pytest.raises(qbx.QuickbooksException) as err:
        wrong_currency.save(qb=qb)
    assert _fault_code(err) == 6000


def test_validation_fault_codes(qbo):
    sandbox, auth, qb = qbo
    dup = Customer()
    dup.DisplayName = "ACME corp"
    with pytest.raises(qbx.QuickbooksException) as err:
        dup.save(qb=qb)
    assert _fault_code(err) == 6240

    long_name = Customer()
    long_name.DisplayName = "x" * 501
    with pytest.raises(qbx.ValidationException) as err:
        long_name.save(qb=qb)
    assert _fault_code(err) == 2050

    with pytest.raises(qbx.ValidationException) as err:
        _invoice(doc="D" * 22).save(qb=qb)
    assert _fault_code(err) == 2050 and "Max:21" in err.value.detail

    with pytest.raises(qbx.QuickbooksException) as err:
        _invoice(doc="1001").save(qb=qb)
    assert _fault_code(err) == 6140 and "TxnId=101" in err.value.detail
    allowed = _invoice(doc="1001").save(qb=qb, params={"include": "allowduplicatedocnum"})
    assert allowed.DocNumber == "1001"

    with pytest.raises(qbx.ObjectNotFoundException) as err:
        _invoice(item="999").save(qb=qb)
    assert _fault_code(err) == 610

    no_customer = _invoice()
    no_customer.CustomerRef = None
    with pytest.raises(qbx.ValidationException) as err:
        no_customer.save(qb=qb)
    assert _fault_code(err) == 2020

    no_lines = Invoice()
    no_lines.CustomerRef = _ref("1")
    with pytest.raises(qbx.ValidationException) as err:
        no_lines.save(qb=qb)
    assert _fault_code(err) == 2020

    response = _raw(sandbox, auth, "POST", "customer", data=json.dumps({"DisplayName": "Z", "Colour": "red"}),
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    error = response.json()["Fault"]["Error"][0]
    assert error["code"] == "2010" and error["element"] == "Colour"

    response = _raw(sandbox, auth, "POST", "customer", data=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["Fault"]["Error"][0]["code"] == "2010"
    response = _raw(sandbox, auth, "POST", "customer", data=b"\xff\xfe\x00",
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["Fault"]["Error"][0]["code"] == "500"

    item = Item()
    item.Name = "Widget"
    with pytest.raises(qbx.ValidationException) as err:  # Type missing
        item.save(qb=qb)
    assert _fault_code(err) == 2020
    term = Term()
    term.Name = "N" * 32
    with pytest.raises(qbx.ValidationException) as err:
        term.save(qb=qb)
    assert _fault_code(err) == 2050

    with pytest.raises(qbx.ObjectNotFoundException):
        Invoice.get(424242, qb=qb)
    assert len(sandbox.qbo.entities["Invoice"]) == 3  # only the allowed duplicate was written


def test_stale_sync_token_and_full_vs_sparse_update(qbo):
    sandbox, auth, qb = qbo
    customer = Customer.get(1, qb=qb)
    customer.Notes = "first"
    updated = customer.save(qb=qb)
    assert updated.SyncToken == "1"
    customer.Notes = "second"  # still holds SyncToken 0
    with pytest.raises(qbx.QuickbooksException) as err:
        customer.save(qb=qb)
    assert _fault_code(err) == 5010

    stamp_before = sandbox.qbo.entities["Customer"]["1"]["MetaData"]["LastUpdatedTime"]
    # Full update: CompanyName not sent -> cleared.
    response = _raw(sandbox, auth, "POST", "customer", headers={"Content-Type": "application/json"},
                    data=json.dumps({"Id": "1", "SyncToken": "1", "DisplayName": "Acme Corp"}))
    assert response.status_code == 200
    body = response.json()["Customer"]
    assert "CompanyName" not in body and "Notes" not in body and body["SyncToken"] == "2"
    assert body["MetaData"]["LastUpdatedTime"] > stamp_before
    # Sparse update: only what is sent changes.
    response = _raw(sandbox, auth, "POST", "customer", headers={"Content-Type": "application/json"},
                    data=json.dumps({"Id": "1", "SyncToken": "2", "sparse": True, "Notes": "kept"}))
    body = response.json()["Customer"]
    assert body["DisplayName"] == "Acme Corp" and body["Notes"] == "kept" and body["SyncToken"] == "3"
    assert float(body["Balance"]) == 150.0  # read-only, untouched by updates


def test_requestid_replays_the_first_response(qbo):
    sandbox, auth, qb = qbo
    first = _invoice(amount=75).save(qb=qb, request_id="rid-0001")
    second = _invoice(amount=75).save(qb=qb, request_id="rid-0001")
    assert first.Id == second.Id
    assert Invoice.count(qb=qb) == 3
    writes = [e for e in sandbox.qbo.request_log if e["params"].get("requestid") == "rid-0001"]
    assert [e["wrote"] for e in writes] == [True, False]
    third = _invoice(amount=75).save(qb=qb, request_id="rid-0002")
    assert third.Id != first.Id


# ---- payments, void, delete ------------------------------------------------------------------------


def test_payments_move_invoice_and_customer_balances(qbo):
    sandbox, auth, qb = qbo
    company = sandbox.qbo
    payment = _payment("1", 80, [("101", 60)]).save(qb=qb)
    assert payment.UnappliedAmt == 20
    invoice = Invoice.get(101, qb=qb)
    assert invoice.Balance == 40 and invoice.SyncToken == "1"
    assert [(lt.TxnId, lt.TxnType) for lt in invoice.LinkedTxn] == [(payment.Id, "Payment")]
    assert company.entities["Customer"]["1"]["Balance"] == 150 - 60 - 20

    with pytest.raises(qbx.QuickbooksException) as err:  # more than the open balance
        _payment("1", 100, [("101", 41)]).save(qb=qb)
    assert _fault_code(err) == 6000
    with pytest.raises(qbx.ValidationException) as err:
        Payment.from_json({"CustomerRef": {"value": "1"}}).save(qb=qb)
    assert _fault_code(err) == 2020

    payment = Payment.get(payment.Id, qb=qb)
    payment.void(qb=qb)
    voided = Payment.get(payment.Id, qb=qb)
    assert voided.TotalAmt == 0 and voided.PrivateNote.startswith("Voided")
    assert Invoice.get(101, qb=qb).Balance == 100
    assert company.entities["Customer"]["1"]["Balance"] == 150

    second = _payment("1", 50, [("102", 50)]).save(qb=qb)
    assert Invoice.get(102, qb=qb).Balance == 0
    Payment.get(second.Id, qb=qb).delete(qb=qb)
    assert Invoice.get(102, qb=qb).Balance == 50
    assert Payment.where(f"Id = '{second.Id}'", qb=qb) == []


def test_credit_memo_and_invoice_void_and_delete(qbo):
    sandbox, auth, qb = qbo
    memo = CreditMemo()
    memo.CustomerRef = _ref("1")
    line = SalesItemLine()
    line.Amount = 30
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = _ref("2")
    memo.Line.append(line)
    memo.InvoiceRef = _ref("101")
    saved = memo.save(qb=qb)
    assert saved.TotalAmt == 30 and saved.RemainingCredit == 30
    assert sandbox.qbo.entities["Customer"]["1"]["Balance"] == 120

    invoice = Invoice.get(101, qb=qb)
    invoice.void(qb=qb)
    voided = Invoice.get(101, qb=qb)
    assert voided.TotalAmt == 0 and voided.Balance == 0
    assert voided.PrivateNote.startswith("Voided") and "006000000000001AAA" in voided.PrivateNote

    Invoice.get(102, qb=qb).delete(qb=qb)
    assert Invoice.where("Id = '102'", qb=qb) == []
    with pytest.raises(qbx.ObjectNotFoundException):
        Invoice.get(102, qb=qb)
    with pytest.raises(qbx.UnsupportedException):  # name lists are made inactive, not deleted
        qb.delete_object("Customer", json.dumps({"Id": "2", "SyncToken": "0"}))


# ---- CDC -------------------------------------------------------------------------------------------


def test_cdc_reports_updates_and_deletions(qbo):
    sandbox, auth, qb = qbo
    since = datetime.now(UTC) - timedelta(minutes=5)
    customer = Customer.get(2, qb=qb)
    customer.Notes = "changed"
    customer.save(qb=qb)
    Invoice.get(102, qb=qb).delete(qb=qb)
    result = change_data_capture([Invoice, Customer], since.strftime("%Y-%m-%dT%H:%M:%S+00:00"), qb=qb)
    assert [c.Id for c in result.Customer] == ["2"]
    deleted = list(result.Invoice)
    assert [(i.Id, i.status) for i in deleted] == [("102", "Deleted")]

    response = _raw(sandbox, auth, "GET", "cdc", params={"changedSince": since.isoformat()})
    assert response.status_code == 200
    assert response.json()["Fault"]["Error"][0]["code"] == "10000"
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    response = _raw(sandbox, auth, "GET", "cdc", params={"entities": "Invoice", "changedSince": old})
    assert response.status_code == 400 and "older than" in response.json()["Fault"]["Error"][0]["Detail"]


# ---- batch -----------------------------------------------------------------------------------------


def test_batch_per_item_faults_and_limits(qbo):
    sandbox, auth, qb = qbo
    customers = []
    for name in ("Batch One", "Batch Two", "Acme Corp"):
        c = Customer()
        c.DisplayName = name
        customers.append(c)
    result = batch_create(customers, qb=qb)
    assert sorted(c.DisplayName for c in result.successes) == ["Batch One", "Batch Two"]
    assert [f.Error[0].code for f in result.faults] == ["6240"]

    url = f"{qb.api_url}/company/{qb.company_id}/batch"
    too_many = {"BatchItemRequest": [{"bId": f"b{i}", "Query": "SELECT * FROM Term"} for i in range(31)]}
    with pytest.raises(qbx.QuickbooksException):
        qb.make_request("POST", url, json.dumps(too_many))

    mixed = {"BatchItemRequest": [
        {"bId": "q1", "Query": "SELECT * FROM Invoice WHERE Id = '101'"},
        {"bId": "u1", "operation": "update", "Customer": {"Id": "2", "SyncToken": "7", "DisplayName": "X"}},
        {"bId": "d1", "operation": "delete", "Invoice": {"Id": "102", "SyncToken": "0"}},
        {"bId": "c1", "operation": "create", "Invoice": {"CustomerRef": {"value": "1"}, "Line": [
            {"Amount": 5, "DetailType": "SalesItemLineDetail",
             "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]}},
    ]}
    body = qb.make_request("POST", url, json.dumps(mixed), params={"requestid": "batch-1"})
    by_bid = {r["bId"]: r for r in body["BatchItemResponse"]}
    assert by_bid["q1"]["QueryResponse"]["Invoice"][0]["Id"] == "101"
    assert by_bid["u1"]["Fault"]["Error"][0]["code"] == "5010"
    assert by_bid["d1"]["Invoice"]["status"] == "Deleted"
    created = by_bid["c1"]["Invoice"]["Id"]
    replay = qb.make_request("POST", url, json.dumps(mixed), params={"requestid": "batch-1"})
    assert {r["bId"]: r for r in replay["BatchItemResponse"]}["c1"]["Invoice"]["Id"] == created
    assert Invoice.count(qb=qb) == 2  # 101 and the one created; 102 deleted; no second create


# ---- throttling --------------------------------------------------------------------------------------


def test_burst_over_the_per_second_limit_gets_429_3001(qbo):
    sandbox, auth, qb = qbo
    sandbox.qbo.throttle.per_second = 10
    statuses = []
    codes = set()
    for _ in range(25):
        response = _raw(sandbox, auth, "GET", "customer/1")
        statuses.append(response.status_code)
        if response.status_code == 429:
            fault = response.json()["Fault"]
            codes.add((fault["type"], fault["Error"][0]["code"]))
    assert 200 in statuses and 429 in statuses
    assert codes == {("SERVICE", "3001")}
    assert sandbox.qbo.throttled_count == statuses.count(429)
    with pytest.raises(qbx.ValidationException) as err:  # how python-quickbooks surfaces it
        Customer.get(1, qb=qb)
    assert _fault_code(err) == 3001


def test_concurrent_requests_over_ten_are_refused(qbo):
    from concurrent.futures import ThreadPoolExecutor

    sandbox, auth, qb = qbo
    sandbox.qbo.latency_s = 0.5  # requests stay in flight long enough to overlap
    sandbox.qbo.throttle.per_second = 0  # isolate the concurrency limit

    def one(_):
        return _raw(sandbox, auth, "GET", "term/3").status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(one, range(16)))
    assert statuses.count(200) >= 1 and statuses.count(429) >= 1
    assert sandbox.qbo.throttle.throttled_by["concurrent"] >= 1


def test_bad_paths_and_emulator_bugs_get_qbo_faults_not_tracebacks(qbo, monkeypatch):
    sandbox, auth, qb = qbo
    for method, path in (("GET", "nothing/1"), ("GET", "customer"), ("POST", "customer/1"), ("GET", "batch")):
        response = _raw(sandbox, auth, method, path)
        assert response.status_code == 400, path
        assert response.json()["Fault"]["Error"][0]["code"] == "500"
        assert response.headers["intuit_tid"]
    response = _raw(sandbox, auth, "POST", "batch", data=b"[]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["Fault"]["Error"][0]["code"] == "2010"

    def broken(text):
        raise RuntimeError("boom")

    monkeypatch.setattr(sandbox.qbo, "run_query", broken)  # simulate a bug inside the emulator
    response = _raw(sandbox, auth, "GET", "query", params={"query": "SELECT * FROM Term"})
    assert response.status_code == 500
    fault = response.json()["Fault"]
    assert fault["type"] == "SystemFault" and fault["Error"][0]["code"] == "10000"
    assert "boom" not in response.text and "Traceback" not in response.text
    sandbox.qbo.request_log.clear()  # the 500 above was on purpose


def test_batch_calls_over_40_per_minute_are_throttled(sandbox_factory, qbo_connect):
    from concurrent.futures import ThreadPoolExecutor

    from sandbox.dataset import Dataset
    from tests.sandbox.conftest import qbo_small_company

    # A "minute" of 30 s: 48 batch calls from 4 threads land well inside one window.
    sandbox = sandbox_factory(dataset=Dataset(qbo=qbo_small_company()), time_scale=2.0)
    sandbox.qbo.throttle.per_second = 0
    auth, _ = qbo_connect(sandbox)
    body = json.dumps({"BatchItemRequest": [{"bId": "t", "Query": "SELECT * FROM Term"}]})

    def one(_):
        response = _raw(sandbox, auth, "POST", "batch", data=body, headers={"Content-Type": "application/json"})
        return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, range(48)))
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 40 and statuses.count(429) == 8
    assert all(b["Fault"]["Error"][0]["code"] == "3001" for s, b in results if s == 429)
    assert sandbox.qbo.throttle.stats()["throttled_by"]["batch"] == 8
    assert _raw(sandbox, auth, "GET", "term/3").status_code == 200  # plain requests still pass
