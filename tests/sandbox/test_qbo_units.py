"""QBO emulator pieces without HTTP: the throttle's windows, the query parser, CDC's cap."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from sandbox.qbo import query
from sandbox.qbo.clock import company_now, format_stamp
from sandbox.qbo.company import QboCompany
from sandbox.qbo.errors import QboError
from sandbox.qbo.throttle import Throttle
from sandbox.server import SandboxSettings
from tests.sandbox.conftest import qbo_small_company


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _admit(throttle, n, is_batch=False):
    results = []
    for _ in range(n):
        reason = throttle.acquire(is_batch)
        if reason is None:
            throttle.release()
        results.append(reason)
    return results


def test_minute_window_slides_and_scales_with_time_scale():
    clock = FakeClock()
    throttle = Throttle(time_scale=60.0, per_second=0, clock=clock)  # a "minute" is 1 s
    assert _admit(throttle, 500) == [None] * 500
    assert _admit(throttle, 3) == ["minute"] * 3
    clock.now += 0.5
    assert _admit(throttle, 1) == ["minute"]
    clock.now += 0.51  # the first 500 left the window
    assert _admit(throttle, 500) == [None] * 500
    stats = throttle.stats()
    assert stats["throttled"] == 4 and stats["throttled_by"]["minute"] == 4 and stats["accepted"] == 1000


def test_per_second_batch_and_concurrency_limits():
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    assert _admit(throttle, 11) == [None] * 10 + ["second"]
    clock.now += 1.0
    batches = []
    for _ in range(41):
        clock.now += 1.1  # stay under 10/s
        batches.append(_admit(throttle, 1, is_batch=True)[0])
    assert batches == [None] * 40 + ["batch"]

    clock.now += 120
    held = [throttle.acquire() for _ in range(10)]  # ten requests in flight, none released
    assert held == [None] * 10
    clock.now += 2
    assert throttle.acquire() == "concurrent"
    throttle.release()
    assert throttle.acquire() is None
    assert throttle.stats()["throttled_by"] == {"minute": 0, "second": 1, "batch": 1, "concurrent": 1}


def test_parser_accepts_client_spellings():
    q = query.parse("select count(*) from invoice where CustomerRef in ('1','2') and TotalAmt >= 10.5")
    assert q.count and q.entity == "invoice"
    assert [(c.field, c.op, c.value) for c in q.where] == [
        ("CustomerRef", "IN", ["1", "2"]), ("TotalAmt", ">=", Decimal("10.5"))
    ]
    q = query.parse("SELECT *, Sku FROM Item ORDER BY Name DESC, Id MAXRESULTS 5 STARTPOSITION 6;")
    assert q.order_by == [("Name", True), ("Id", False)] and q.max_results == 5 and q.start_position == 6
    q = query.parse("SELECT * FROM Customer WHERE DisplayName = 'It\\'s a \\\\ test' ORDERBY Id")
    assert q.where[0].value == "It's a \\ test"
    assert query.parse("SELECT Id, DisplayName FROM Customer").projection == ["Id", "DisplayName"]


@pytest.mark.parametrize(
    "text",
    [
        "", "SELECT", "SELECT * FROM", "SELECT * FROM Invoice WHERE", "SELECT * FROM Invoice WHERE Id = ",
        "SELECT * FROM Invoice WHERE Id = '1' OR Id = '2'", "SELECT * FROM Invoice GROUP BY Id",
        "SELECT * FROM Invoice MAXRESULTS 0", "SELECT * FROM Invoice MAXRESULTS abc",
        "SELECT * FROM Invoice WHERE Id NOT IN ('1')", "SELECT * FROM Invoice WHERE Id = \"1\"",
        "SELECT * FROM Invoice; DROP TABLE x", "SELECT * FROM Invoice WHERE DocNumber = 'x\\",
    ],
)
def test_parser_rejects_with_code_4000(text):
    with pytest.raises(QboError) as err:
        query.parse(text)
    assert err.value.status == 400 and err.value.errors[0]["code"] == "4000"


def test_like_and_typed_comparisons():
    row = {"DisplayName": "Acme 100% Corp", "TotalAmt": Decimal("99.50"), "Active": False,
           "TxnDate": "2026-11-01", "CustomerRef": {"value": "7"},
           "MetaData": {"LastUpdatedTime": "2026-11-20T09:00:00-08:00"}}
    cond = query.Condition
    assert query.matches(row, cond("DisplayName", "LIKE", "acme%corp"), "string")
    assert not query.matches(row, cond("DisplayName", "LIKE", "Corp%"), "string")
    assert query.matches(row, cond("TotalAmt", "<", "100"), "number")
    assert query.matches(row, cond("Active", "=", False), "bool")
    assert query.matches(row, cond("TxnDate", ">", "2026-10-31"), "date")
    assert query.matches(row, cond("CustomerRef", "=", "7"), "id")
    # 17:00 UTC is 09:00 Pacific: equal instants across offsets
    assert query.matches(row, cond("MetaData.LastUpdatedTime", ">=", "2026-11-20T17:00:00Z"), "datetime")
    assert not query.matches(row, cond("MetaData.LastUpdatedTime", ">", "2026-11-20T17:00:00+00:00"), "datetime")


def test_cdc_caps_at_1000_objects_oldest_first():
    stamp = format_stamp(company_now())
    customers = [{"Id": str(i), "DisplayName": f"C{i}", "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp}}
                 for i in range(1, 1006)]
    company = QboCompany({**qbo_small_company(), "Customer": customers}, SandboxSettings())
    since = format_stamp(company_now() - timedelta(minutes=1))
    status, body = company.cdc("Customer,Invoice", since)
    assert status == 200
    responses = body["CDCResponse"][0]["QueryResponse"]
    assert len(responses[0]["Customer"]) == 1000 and responses[1] == {}


def test_generated_ids_and_stamps_increase():
    company = QboCompany(qbo_small_company(), SandboxSettings())
    first = company.write("Customer", {"DisplayName": "One"}, {})["Customer"]
    second = company.write("Customer", {"DisplayName": "Two"}, {})["Customer"]
    assert int(second["Id"]) > int(first["Id"]) > 2
    assert second["MetaData"]["LastUpdatedTime"] > first["MetaData"]["LastUpdatedTime"]
    with pytest.raises(QboError) as err:
        company.write("Customer", {"DisplayName": " two "}, {})  # names compare trimmed, case-insensitively
    assert err.value.errors[0]["code"] == "6240"


_VALID_BODIES = {
    "Customer": {"DisplayName": "Fuzz", "CompanyName": "F", "SalesTermRef": {"value": "3"},
                 "BillAddr": {"Line1": "a"}, "PrimaryEmailAddr": {"Address": "a@b.c"}, "Active": True},
    "Item": {"Name": "FuzzItem", "Type": "Service", "IncomeAccountRef": {"value": "1"}, "UnitPrice": 3},
    "Term": {"Name": "FuzzTerm", "DueDays": 10},
    "Invoice": {"CustomerRef": {"value": "1"}, "TxnDate": "2026-11-01", "SalesTermRef": {"value": "3"},
                "DocNumber": "Z1", "Line": [
                    {"Amount": 10, "DetailType": "SalesItemLineDetail",
                     "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 10}},
                    {"Amount": 1, "DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": False}}]},
    "CreditMemo": {"CustomerRef": {"value": "1"}, "InvoiceRef": {"value": "101"}, "Line": [
        {"Amount": 10, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]},
    "Payment": {"CustomerRef": {"value": "1"}, "TotalAmt": 10,
                "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "101", "TxnType": "Invoice"}]}]},
}
_WEIRD = [None, "", "x", 0, -5, 1.5, True, [], {}, [1], {"value": []}, {"a": 1}, "2026-13-45", "12.3.4",
          [{"x": 1}], {"value": "999"}, "NaN", "Infinity", Decimal("1e308")]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _paths(value, prefix + (i,))


@pytest.mark.parametrize("entity", sorted(_VALID_BODIES))
def test_malformed_payloads_get_faults_never_exceptions(entity):
    """Every property of a valid body replaced by odd values: a QBO fault or success, nothing else."""
    import copy

    body = _VALID_BODIES[entity]
    company = QboCompany(qbo_small_company(), SandboxSettings())
    assert company.write(entity, copy.deepcopy(body), {})  # the valid body itself is accepted
    for path in _paths(body):
        for odd in _WEIRD:
            company = QboCompany(qbo_small_company(), SandboxSettings())
            mutated = copy.deepcopy(body)
            if path:
                target = mutated
                for step in path[:-1]:
                    target = target[step]
                target[path[-1]] = copy.deepcopy(odd)
            else:
                mutated = copy.deepcopy(odd)
            for params in ({}, {"operation": "delete"}, {"operation": "void"}):
                try:
                    company.write(entity, mutated, params)
                except QboError as err:
                    assert err.status == 400 and err.errors[0]["code"].isdigit()


def test_payment_applying_an_invoice_and_a_credit_memo():
    company = QboCompany(qbo_small_company(), SandboxSettings())
    line = {"Amount": 30, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}
    memo = company.write("CreditMemo", {"CustomerRef": {"value": "1"}, "Line": [line]}, {})["CreditMemo"]
    assert company.entities["Customer"]["1"]["Balance"] == Decimal("120.00")
    payment = company.write("Payment", {
        "CustomerRef": {"value": "1"}, "TotalAmt": 70,
        "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": "101", "TxnType": "Invoice"}]},
                 {"Amount": 30, "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]}],
    }, {})["Payment"]
    assert payment["UnappliedAmt"] == 0
    assert company.entities["Invoice"]["101"]["Balance"] == 0
    assert company.entities["CreditMemo"][memo["Id"]]["RemainingCredit"] == 0
    assert company.entities["Customer"]["1"]["Balance"] == Decimal("50.00")  # invoice 102 is still open
    with pytest.raises(QboError) as err:  # a used credit memo cannot go away under its payment
        company.write("CreditMemo", {"Id": memo["Id"], "SyncToken": "1"}, {"operation": "delete"})
    assert err.value.errors[0]["code"] == "6000"
    company.write("Payment", {"Id": payment["Id"], "SyncToken": "0"}, {"operation": "delete"})
    assert company.entities["Invoice"]["101"]["Balance"] == 100
    assert company.entities["CreditMemo"][memo["Id"]]["RemainingCredit"] == 30
    assert company.entities["Customer"]["1"]["Balance"] == Decimal("120.00")
