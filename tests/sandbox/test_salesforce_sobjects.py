"""sObject REST and sObject Collections through simple-salesforce: CRUD, upsert, validation, stamps."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from sandbox.dataset import Dataset
from sandbox.salesforce.ids import to18
from tests.sandbox.conftest import sf_small_org


@pytest.fixture
def org_and_sf(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=20)
    return sandbox, sf_connect(sandbox)


def _opp_id(i: int) -> str:
    return to18(f"006Ab{i:010d}")  # as sf_small_org names them


def _error(exc_info) -> dict:
    content = exc_info.value.content
    assert isinstance(content, list)
    return content[0]


def test_get_returns_all_fields_with_attributes(org_and_sf):
    _, sf = org_and_sf
    record = sf.Opportunity.get(_opp_id(1))
    assert record["attributes"]["type"] == "Opportunity"
    assert record["Name"] == "Opp 00001"
    assert record["StageName"] == "Closed Won" and record["IsWon"] is True and record["IsClosed"] is True
    assert record["Amount"] == 1.0
    assert record["SystemModstamp"] == "2026-01-05T10:00:01.000+0000"
    assert record["QBO_Invoice_Id__c"] is None
    # 15-character ids work too, and ?fields= narrows the answer.
    narrow = sf.Opportunity.get(_opp_id(1)[:15], params={"fields": "Name,Amount"})
    assert set(narrow) == {"attributes", "Name", "Amount"}


def test_update_advances_system_modstamp_and_derives_stage_flags(org_and_sf):
    sandbox, sf = org_and_sf
    opp_id = _opp_id(0)
    before = sandbox.sf.records["Opportunity"][opp_id]["SystemModstamp"]
    assert sf.Opportunity.update(opp_id, {"StageName": "Closed Won", "QBO_Balance_Due__c": 12.345}) == 204
    first = sandbox.sf.records["Opportunity"][opp_id]
    assert first["IsWon"] is True and first["IsClosed"] is True
    assert str(first["QBO_Balance_Due__c"]) == "12.35"  # currency fields keep 2 decimals
    assert sf.Opportunity.update(opp_id, {"StageName": "Closed Lost"}) == 204
    second = sandbox.sf.records["Opportunity"][opp_id]
    assert second["IsWon"] is False and second["IsClosed"] is True
    assert before < first["SystemModstamp"] < second["SystemModstamp"]
    assert second["LastModifiedDate"] == second["SystemModstamp"]
    assert second["SystemModstamp"].microsecond % 1000 == 0  # millisecond precision
    # the JSON answer shows the new stamp in Salesforce's format
    assert sf.Opportunity.get(opp_id)["SystemModstamp"].endswith("+0000")


def test_create_and_delete_then_query_all_still_sees_it(org_and_sf):
    sandbox, sf = org_and_sf
    account_id = sf_small_org(1)["Account"][0]["Id"]
    created = sf.Opportunity.create(
        {"Name": "New deal", "StageName": "Prospecting", "CloseDate": "2026-12-01", "Amount": "99.5",
         "AccountId": account_id, "CurrencyIsoCode": "USD"}
    )
    assert created["success"] is True and created["errors"] == []
    new_id = created["id"]
    assert len(new_id) == 18 and new_id.startswith("006")
    record = sandbox.sf.records["Opportunity"][new_id]
    assert record["IsWon"] is False and record["CreatedDate"] == record["SystemModstamp"]
    assert sf.Opportunity.delete(new_id) == 204
    assert sandbox.sf.records["Opportunity"][new_id]["IsDeleted"] is True
    assert sf.query(f"SELECT Id FROM Opportunity WHERE Id = '{new_id}'")["totalSize"] == 0
    assert sf.query_all(f"SELECT Id FROM Opportunity WHERE Id = '{new_id}'", include_deleted=True)["totalSize"] == 1
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Opportunity.delete(new_id)
    assert _error(exc)["errorCode"] == "ENTITY_IS_DELETED"


def test_upsert_by_external_id_creates_then_updates(org_and_sf):
    sandbox, sf = org_and_sf
    assert sf.Account.upsert("QBO_Customer_Id__c/77", {"Name": "Initech"}) == 201
    matches = sf.query("SELECT Id, Name FROM Account WHERE QBO_Customer_Id__c = '77'")["records"]
    assert [m["Name"] for m in matches] == ["Initech"]
    # An update through upsert answers 200 with created=false (API v46+).
    assert sf.Account.upsert("QBO_Customer_Id__c/77", {"QBO_Open_Balance__c": 10}) == 200
    body = sf.Account.upsert("QBO_Customer_Id__c/77", {"Phone": "555"}, raw_response=True).json()
    assert body == {"id": matches[0]["Id"], "success": True, "errors": [], "created": False}
    assert sandbox.sf.records["Account"][matches[0]["Id"]]["Phone"] == "555"
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.upsert("BillingCity/Cork", {"Name": "x"})
    assert "external ID field does not exist" in _error(exc)["message"]


def test_upsert_with_several_matches_is_300(sandbox_factory, sf_connect):
    records = sf_small_org(3)
    records["Account"][2]["QBO_Customer_Id__c"] = "1"  # a messy org: the "unique" id twice
    sandbox = sandbox_factory(dataset=Dataset(salesforce=records))
    sf = sf_connect(sandbox)
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        sf.Account.upsert("QBO_Customer_Id__c/1", {"Name": "Which one?"})
    assert exc.value.status == 300
    assert len(exc.value.content) == 2


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"Bogus__c": 1}, "INVALID_FIELD", None),
        ({"IsWon": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsWon"]),
        ({"SystemModstamp": "2026-01-01T00:00:00Z", "Id": "006000000000000AAA"}, "INVALID_FIELD_FOR_INSERT_UPDATE", None),
        ({"Amount": "lots"}, "JSON_PARSER_ERROR", None),
        ({"CloseDate": "2026-13-45"}, "JSON_PARSER_ERROR", None),
        ({"Amount": 1e20}, "NUMBER_OUTSIDE_VALID_RANGE", ["Amount"]),
        ({"Name": "x" * 121}, "STRING_TOO_LONG", ["Name"]),
        ({"StageName": None}, "REQUIRED_FIELD_MISSING", ["StageName"]),
        ({"AccountId": "001000000000000AAA"}, "INVALID_CROSS_REFERENCE_KEY", ["AccountId"]),
        ({"AccountId": "003000000000000AAA"}, "MALFORMED_ID", ["AccountId"]),
        ({"CurrencyIsoCode": "dollars"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", ["CurrencyIsoCode"]),
    ],
)
def test_update_validation_errors(org_and_sf, body, code, fields):
    sandbox, sf = org_and_sf
    before = dict(sandbox.sf.records["Opportunity"][_opp_id(0)])
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.update(_opp_id(0), body)
    error = _error(exc)
    assert error["errorCode"] == code
    if fields is not None:
        assert error["fields"] == fields
    assert sandbox.sf.records["Opportunity"][_opp_id(0)] == before
    assert sandbox.sf.internal_errors == []


def test_bad_ids_are_malformed_id_or_not_found(org_and_sf):
    _, sf = org_and_sf
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.get("001000000000000AAA")  # an Account id on the Opportunity resource
    assert _error(exc)["errorCode"] == "MALFORMED_ID"
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Opportunity.get("006000000000999AAA")
    assert _error(exc) == {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Opportunity.update("not-an-id", {"Name": "x"})
    assert _error(exc)["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Widget__c.get("a00000000000000AAA")


def test_unique_external_id_rejects_duplicates(org_and_sf):
    _, sf = org_and_sf
    sf.Opportunity.update(_opp_id(0), {"QBO_Invoice_Id__c": "INV-1"})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.update(_opp_id(1), {"QBO_Invoice_Id__c": "inv-1"})
    error = _error(exc)
    assert error["errorCode"] == "DUPLICATE_VALUE" and _opp_id(0) in error["message"]


def _collection(records, all_or_none):
    return {"allOrNone": all_or_none, "records": records}


def _opp(i, **fields):
    return {"attributes": {"type": "Opportunity"}, "id": _opp_id(i), **fields}


def test_composite_update_without_all_or_none_saves_the_good_records(org_and_sf):
    sandbox, sf = org_and_sf
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json=_collection(
            [
                _opp(0, QBO_Invoice_Status__c="Paid"),
                {"attributes": {"type": "Opportunity"}, "id": "006bad", "Name": "x"},
                _opp(2, IsClosed=True),
                {"attributes": {"type": "Opportunity"}, "Name": "no id"},
                _opp(3, QBO_Days_Outstanding__c=12),
            ],
            False,
        ),
    )
    assert [r["success"] for r in results] == [True, False, False, False, True]
    assert results[0]["id"] == _opp_id(0)
    assert results[1]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert results[2]["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert results[3]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    records = sandbox.sf.records["Opportunity"]
    assert records[_opp_id(0)]["QBO_Invoice_Status__c"] == "Paid"
    assert records[_opp_id(3)]["QBO_Days_Outstanding__c"] == 12


def test_composite_update_all_or_none_rolls_everything_back(org_and_sf):
    sandbox, sf = org_and_sf
    before = {i: dict(sandbox.sf.records["Opportunity"][_opp_id(i)]) for i in range(3)}
    results = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json=_collection([_opp(0, Name="A"), _opp(1, Name="x" * 200), _opp(2, Name="C")], True),
    )
    assert [r["success"] for r in results] == [False, False, False]
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    for i in (0, 2):
        assert results[i]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert {i: sandbox.sf.records["Opportunity"][_opp_id(i)] for i in range(3)} == before


def test_composite_rejects_more_than_200_records(org_and_sf):
    _, sf = org_and_sf
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.restful("composite/sobjects", method="PATCH", json=_collection([_opp(0)] * 201, False))
    assert _error(exc)["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_composite_upsert_by_external_id(org_and_sf):
    sandbox, sf = org_and_sf
    sf.Opportunity.update(_opp_id(4), {"QBO_Invoice_Id__c": "INV-4"})
    account_id = sf_small_org(1)["Account"][0]["Id"]
    results = sf.restful(
        "composite/sobjects/Opportunity/QBO_Invoice_Id__c",
        method="PATCH",
        json=_collection(
            [
                {"attributes": {"type": "Opportunity"}, "QBO_Invoice_Id__c": "INV-4", "QBO_Amount_Paid__c": 5},
                {"attributes": {"type": "Opportunity"}, "QBO_Invoice_Id__c": "INV-NEW", "Name": "From QBO",
                 "StageName": "Closed Won", "CloseDate": "2026-11-01", "AccountId": account_id},
                {"attributes": {"type": "Opportunity"}, "Name": "no key"},
            ],
            False,
        ),
    )
    assert results[0] == {"id": _opp_id(4), "success": True, "errors": [], "created": False}
    assert results[1]["created"] is True and results[1]["success"] is True
    assert results[2]["success"] is False and results[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"
    created = sandbox.sf.records["Opportunity"][results[1]["id"]]
    assert created["IsWon"] is True and created["QBO_Invoice_Id__c"] == "INV-NEW"


def test_request_log_marks_writes(org_and_sf):
    sandbox, sf = org_and_sf
    sf.query("SELECT Id FROM Account")
    sf.Opportunity.update(_opp_id(0), {"Name": "Renamed"})
    log = sandbox.sf.request_log
    assert log[0]["path"] == "/services/oauth2/token" and log[0]["api_call"] is False
    reads = [e for e in log if e["method"] == "GET"]
    writes = [e for e in log if e["write"]]
    assert reads and not any(e["write"] for e in reads)
    assert [(e["method"], e["status"]) for e in writes] == [("PATCH", 204)]


def test_describe_and_replication_resources(org_and_sf):
    from datetime import UTC, datetime, timedelta

    _, sf = org_and_sf
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert fields["QBO_Invoice_Id__c"]["externalId"] is True and fields["QBO_Invoice_Id__c"]["unique"] is True
    assert fields["IsWon"]["updateable"] is False and fields["AccountId"]["referenceTo"] == ["Account"]
    assert {"Account", "Opportunity", "User"} <= {o["name"] for o in sf.describe()["sobjects"]}

    start = datetime.now(UTC) - timedelta(minutes=5)
    sf.Opportunity.update(_opp_id(0), {"Name": "Touched"})
    sf.Opportunity.delete(_opp_id(1))
    end = datetime.now(UTC) + timedelta(minutes=2)
    assert sf.Opportunity.updated(start, end)["ids"] == [_opp_id(0)]
    deleted = sf.Opportunity.deleted(start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [_opp_id(1)]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.deleted(start - timedelta(days=20), end)
    assert _error(exc)["errorCode"] == "INVALID_REPLICATION_DATE"
