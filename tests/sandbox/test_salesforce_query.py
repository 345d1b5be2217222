"""REST query / queryAll through simple-salesforce: paging, relationships, SOQL features, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.sandbox.conftest import sf_small_org

N = 4500


@pytest.fixture
def sf(sf_sandbox, sf_connect):
    return sf_connect(sf_sandbox)


def _error(exc_info) -> dict:
    content = exc_info.value.content
    assert isinstance(content, list) and len(content) == 1
    return content[0]


def test_query_pages_at_2000_with_relative_next_records_url(sf):
    first = sf.query("SELECT Id, Name FROM Opportunity")
    assert first["totalSize"] == N - 2  # two opportunities are deleted
    assert first["done"] is False
    assert len(first["records"]) == 2000
    next_url = first["nextRecordsUrl"]
    assert next_url.startswith("/services/data/v62.0/query/01g") and next_url.endswith("-2000")
    second = sf.query_more(next_url, identifier_is_url=True)
    assert len(second["records"]) == 2000 and second["nextRecordsUrl"].endswith("-4000")
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert third["done"] is True and "nextRecordsUrl" not in third
    ids = [r["Id"] for page in (first, second, third) for r in page["records"]]
    assert len(ids) == len(set(ids)) == N - 2
    record = first["records"][0]
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v62.0/sobjects/Opportunity/{record['Id']}",
    }


def test_query_all_includes_deleted_rows_and_query_does_not(sf):
    everything = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    assert everything["totalSize"] == N
    deleted = [r for r in everything["records"] if r["IsDeleted"]]
    assert len(deleted) == 2
    live = sf.query_all("SELECT Id FROM Opportunity WHERE IsDeleted = true")
    assert live["totalSize"] == 0
    only_deleted = sf.query_all("SELECT Id FROM Opportunity WHERE IsDeleted = true", include_deleted=True)
    assert {r["Id"] for r in only_deleted["records"]} == {r["Id"] for r in deleted}


def test_child_to_parent_relationship_fields_nest_objects(sf):
    result = sf.query(
        "SELECT Id, Account.Name, Account.Owner.Username, Owner.Username FROM Opportunity "
        "WHERE Name = 'Opp 00000'"
    )
    record = result["records"][0]
    assert record["Account"]["Name"] == "Acme Corp"
    assert record["Account"]["attributes"]["type"] == "Account"
    assert record["Account"]["Owner"]["Username"] == "rep@ledgerlink.test"
    assert record["Owner"]["Username"] == "rep@ledgerlink.test"
    no_owner = sf.query("SELECT Id, Account.Owner.Username FROM Opportunity WHERE Name = 'Opp 00001'")
    assert no_owner["records"][0]["Account"]["Owner"] is None


def test_string_literal_escapes(sf):
    result = sf.query("SELECT Name FROM Account WHERE Name = 'O\\'Brien\\'s Bakery'")
    assert [r["Name"] for r in result["records"]] == ["O'Brien's Bakery"]
    quoted = sf.query("SELECT Name FROM Account WHERE Name = 'Globex \\\"International\\\"'")
    assert [r["Name"] for r in quoted["records"]] == ['Globex "International"']
    # Comparisons of text are case-insensitive in SOQL.
    assert sf.query("SELECT Id FROM Account WHERE Name = 'ACME CORP'")["totalSize"] == 1
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Account WHERE Name = 'bad \\q escape'")
    assert _error(exc)["errorCode"] == "MALFORMED_QUERY"


def test_date_and_datetime_literals(sf):
    today_count = N // 200 + (1 if N % 200 else 0)  # CloseDate = today - (i % 200)
    by_today = sf.query("SELECT Id FROM Opportunity WHERE CloseDate = TODAY", include_deleted=True)
    assert by_today["totalSize"] == sum(1 for i in range(N) if i % 200 == 0) == today_count
    last_n = sf.query_all("SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:2", include_deleted=True)
    # LAST_N_DAYS:2 covers today and the two days before it.
    assert last_n["totalSize"] == sum(1 for i in range(N) if i % 200 <= 2)
    yesterday = sf.query_all("SELECT Id FROM Opportunity WHERE CloseDate = YESTERDAY", include_deleted=True)
    assert yesterday["totalSize"] == sum(1 for i in range(N) if i % 200 == 1)
    day = (datetime.now(UTC).date() - timedelta(days=5)).isoformat()
    exact = sf.query_all(f"SELECT Id FROM Opportunity WHERE CloseDate = {day}", include_deleted=True)
    assert exact["totalSize"] == sum(1 for i in range(N) if i % 200 == 5)
    stamped = sf.query_all(
        "SELECT Id FROM Opportunity WHERE SystemModstamp > 2026-01-05T10:00:09Z "
        "AND SystemModstamp <= 2026-01-05T11:00:11+01:00",
        include_deleted=True,
    )
    # stamps are 10:00:00 + i seconds; (10:00:09, 10:00:11] holds i = 10 and 11.
    assert sorted(r["Id"][-8:] for r in stamped["records"]) == sorted(
        r["Id"][-8:] for r in sf.query_all("SELECT Id FROM Opportunity WHERE Name IN ('Opp 00010', 'Opp 00011')")["records"]
    )
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Opportunity WHERE CloseDate = '2026-01-01'")
    assert _error(exc)["errorCode"] == "INVALID_QUERY_FILTER_OPERATOR"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Opportunity WHERE SystemModstamp > 2026-01-01")
    assert "dateTime" in _error(exc)["message"]


def test_where_operators_order_by_and_limit(sf):
    rows = sf.query(
        "SELECT Name, Amount, StageName FROM Opportunity "
        "WHERE (StageName = 'Closed Won' OR StageName = 'Closed Lost') AND Amount >= 10 AND Amount < 20 "
        "ORDER BY StageName DESC, Amount ASC LIMIT 5"
    )["records"]
    assert [(r["StageName"], r["Amount"]) for r in rows] == [
        ("Closed Won", 10.0), ("Closed Won", 13.0), ("Closed Won", 16.0), ("Closed Won", 19.0),
        ("Closed Lost", 11.0),
    ]
    in_list = sf.query("SELECT Id FROM Opportunity WHERE Name IN ('Opp 00001', 'Opp 00002', 'nope')")
    assert in_list["totalSize"] == 2
    not_in = sf.query("SELECT Id FROM Account WHERE Name NOT IN ('Acme Corp') AND BillingCity != null")
    assert not_in["totalSize"] == 1
    like = sf.query("SELECT Name FROM Opportunity WHERE Name LIKE 'Opp 0449_' ORDER BY Name DESC")
    assert [r["Name"] for r in like["records"]] == [f"Opp 0449{d}" for d in range(9, -1, -1)]
    nulls = sf.query("SELECT Id FROM Account WHERE Website = null")
    assert nulls["totalSize"] == 2
    negated = sf.query("SELECT Id FROM Opportunity WHERE NOT (Amount > 2) AND IsWon = false")
    assert negated["totalSize"] == 2  # Opp 0 (Prospecting) and Opp 2 (Closed Lost)
    count = sf.query("SELECT COUNT() FROM Opportunity WHERE IsWon = true")
    assert count["totalSize"] == sum(1 for i in range(N) if i % 3 == 1 and i not in (7, 8))
    assert count["records"] == []


@pytest.mark.parametrize(
    ("soql", "code", "text"),
    [
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id Name FROM Account", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "MALFORMED_QUERY", "OR"),
        ("SELECT Id, Foo__c FROM Account", "INVALID_FIELD", "No such column 'Foo__c' on entity 'Account'"),
        ("SELECT Id FROM Account WHERE Bogus = 1", "INVALID_FIELD", "No such column 'Bogus'"),
        ("SELECT Nope.Name FROM Opportunity", "INVALID_FIELD", "Didn't understand relationship 'Nope'"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE", "sObject type 'Widget__c' is not supported"),
        ("SELECT Id FROM Account WHERE Id = 'not-an-id'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field"),
        ("SELECT Id FROM Opportunity WHERE Amount = '10'", "INVALID_QUERY_FILTER_OPERATOR", "type double"),
        ("SELECT Id FROM Account GROUP BY Name", "MALFORMED_QUERY", "GROUP BY"),
    ],
)
def test_query_errors_are_salesforce_error_arrays(sf, sf_sandbox, soql, code, text):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(soql)
    assert exc.value.status == 400
    error = _error(exc)
    assert error["errorCode"] == code
    assert text in error["message"]
    if code in ("MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE") and "GROUP" not in soql:
        assert "ERROR at Row:1:Column:" in error["message"]
    assert sf_sandbox.sf.internal_errors == []


def test_bad_query_locator_is_invalid_query_locator(sf):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more("/services/data/v62.0/query/01gXXXXXXXXXXXXXXX-2000", identifier_is_url=True)
    assert _error(exc)["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_dataset_order_is_kept_without_order_by(sf):
    names = [r["Name"] for r in sf.query("SELECT Name FROM Opportunity LIMIT 3")["records"]]
    assert names == [r["Name"] for r in sf_small_org(3)["Opportunity"]]
