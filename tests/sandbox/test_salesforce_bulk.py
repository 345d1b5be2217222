"""Bulk API 2.0 through simple-salesforce's `sf.bulk2`: query jobs, ingest jobs and their results."""

from __future__ import annotations

import csv
import io
import time

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

from sandbox.salesforce.ids import to18

N = 4500
WAIT = 0.1


def _opp_id(i: int) -> str:
    return to18(f"006Ab{i:010d}")  # as sf_small_org names them


def _rows(page: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(page)))


@pytest.fixture
def big(sf_sandbox, sf_connect):
    return sf_sandbox, sf_connect(sf_sandbox)


@pytest.fixture
def small(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=12)
    return sandbox, sf_connect(sandbox)


def test_bulk_query_csv_is_quoted_like_salesforce(small):
    _, sf = small
    pages = list(sf.bulk2.Account.query("SELECT Id, Name, Website, Owner.Username FROM Account ORDER BY Name", wait=WAIT))
    assert len(pages) == 1
    lines = pages[0].split("\n")
    assert lines[0] == '"Id","Name","Website","Owner.Username"'
    assert lines[1].endswith('"Acme Corp","","rep@ledgerlink.test"')
    assert lines[2].endswith('"Globex ""International""","https://globex.test",""')
    assert lines[3].endswith('"O\'Brien\'s Bakery","",""')
    assert lines[4] == "" and len(lines) == 5  # three rows, LF after each, deleted account left out

    opp = _rows(next(sf.bulk2.Opportunity.query(
        "SELECT Id, IsWon, Amount, CloseDate, SystemModstamp, QBO_Invoice_Id__c FROM Opportunity "
        "WHERE Name = 'Opp 00001'", wait=WAIT)))
    assert opp == [{"Id": _opp_id(1), "IsWon": "true", "Amount": "1.0", "CloseDate": opp[0]["CloseDate"],
                    "SystemModstamp": "2026-01-05T10:00:01.000+0000", "QBO_Invoice_Id__c": ""}]
    assert len(opp[0]["CloseDate"]) == 10


def test_bulk_query_pages_by_max_records_and_query_all_adds_deleted(big):
    _, sf = big
    pages = list(sf.bulk2.Opportunity.query("SELECT Id, Name FROM Opportunity", max_records=2000, wait=WAIT))
    assert [len(_rows(p)) for p in pages] == [2000, 2000, N - 2 - 4000]
    assert all(p.startswith('"Id","Name"\n') for p in pages)  # a header on every page
    ids = [r["Id"] for p in pages for r in _rows(p)]
    assert len(set(ids)) == N - 2
    all_pages = list(sf.bulk2.Opportunity.query_all(
        "SELECT Id, IsDeleted FROM Opportunity", max_records=1500, wait=WAIT))
    all_rows = [r for p in all_pages for r in _rows(p)]
    assert len(all_pages) == 3 and len(all_rows) == N
    assert {r["Id"] for r in all_rows if r["IsDeleted"] == "true"} == {_opp_id(7), _opp_id(8)}
    assert set(ids) == {r["Id"] for r in all_rows if r["IsDeleted"] == "false"}


def test_query_job_lifecycle_in_progress_412_and_locators(big, sf_connect):
    sandbox, sf = big
    s = sf.session
    base = f"{sandbox.sf_url}/services/data/v62.0/jobs/query"
    headers = {"Authorization": f"Bearer {sf.session_id}", "Content-Type": "application/json"}
    created = s.post(base, json={"operation": "query", "query": "SELECT Id FROM Opportunity"}, headers=headers)
    assert created.status_code == 200
    job = created.json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    assert job["columnDelimiter"] == "COMMA" and job["lineEnding"] == "LF" and job["apiVersion"] == 62.0
    info = s.get(f"{base}/{job['id']}", headers=headers).json()
    assert info["state"] == "InProgress"
    early = s.get(f"{base}/{job['id']}/results", headers=headers)
    assert early.status_code == 412
    assert early.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    time.sleep(WAIT)
    assert s.get(f"{base}/{job['id']}", headers=headers).json()["state"] == "JobComplete"
    first = s.get(f"{base}/{job['id']}/results", params={"maxRecords": 4000}, headers=headers)
    assert first.headers["Sforce-NumberOfRecords"] == "4000"
    locator = first.headers["Sforce-Locator"]
    assert locator not in ("", "null")
    last = s.get(f"{base}/{job['id']}/results", params={"maxRecords": 4000, "locator": locator}, headers=headers)
    assert last.headers["Sforce-Locator"] == "null"
    assert last.headers["Sforce-NumberOfRecords"] == str(N - 2 - 4000)
    again = s.get(f"{base}/{job['id']}/results", params={"maxRecords": 4000, "locator": locator}, headers=headers)
    assert again.content == last.content  # a page can be fetched again
    bad = s.get(f"{base}/{job['id']}/results", params={"locator": "!!"}, headers=headers)
    assert bad.status_code == 400
    assert s.delete(f"{base}/{job['id']}", headers=headers).status_code == 204
    assert s.get(f"{base}/{job['id']}", headers=headers).status_code == 404
    assert sandbox.sf.internal_errors == []


def test_query_job_result_is_a_snapshot_taken_at_creation(small):
    sandbox, sf = small
    client = sf.bulk2.Opportunity._client
    job = client.create_job("query", query="SELECT Id, Name FROM Opportunity WHERE Name = 'Opp 00003'")
    sf.Opportunity.update(_opp_id(3), {"Name": "Renamed"})
    client.wait_for_job(job["id"], True, WAIT)
    rows = _rows(client.get_query_results(job["id"])["records"])
    assert rows == [{"Id": _opp_id(3), "Name": "Opp 00003"}]


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT COUNT() FROM Opportunity",
        "SELECT Id FROM Opportunity GROUP BY Id",
        "SELECT Id FROM Opportunity LIMIT 5 OFFSET 2",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
    ],
)
def test_bulk_query_rejects_what_bulk_api_2_rejects(small, soql):
    _, sf = small
    with pytest.raises(SalesforceMalformedRequest) as exc:
        list(sf.bulk2.Opportunity.query(soql, wait=WAIT))
    assert exc.value.status == 400
    assert "not supported by Bulk API 2.0" in exc.value.content[0]["message"]


def test_bulk_query_allows_order_by_and_reports_bad_fields(small):
    _, sf = small
    rows = _rows(next(sf.bulk2.Opportunity.query(
        "SELECT Name FROM Opportunity ORDER BY Amount DESC LIMIT 2", wait=WAIT)))
    assert [r["Name"] for r in rows] == ["Opp 00011", "Opp 00010"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        list(sf.bulk2.Opportunity.query("SELECT Nope FROM Opportunity", wait=WAIT))
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_bulk_ingest_update_empty_cell_keeps_and_na_nulls(small):
    sandbox, sf = small
    sf.Opportunity.update(_opp_id(0), {"QBO_Invoice_Status__c": "Open", "QBO_Aging_Bucket__c": "1-30"})
    before = sandbox.sf.records["Opportunity"][_opp_id(0)]["SystemModstamp"]
    result = sf.bulk2.Opportunity.update(
        records=[
            {"Id": _opp_id(0), "QBO_Invoice_Status__c": "#N/A", "QBO_Aging_Bucket__c": None, "Amount": "42.5"},
            {"Id": _opp_id(1), "QBO_Invoice_Status__c": "Paid", "QBO_Aging_Bucket__c": None, "Amount": "lots"},
            {"Id": "006bad", "QBO_Invoice_Status__c": "Paid", "QBO_Aging_Bucket__c": None, "Amount": None},
        ],
        wait=WAIT,
    )
    assert result[0]["numberRecordsProcessed"] == 3 and result[0]["numberRecordsFailed"] == 2
    record = sandbox.sf.records["Opportunity"][_opp_id(0)]
    assert record["QBO_Invoice_Status__c"] is None
    assert record["QBO_Aging_Bucket__c"] == "1-30"
    assert str(record["Amount"]) == "42.50"
    assert record["SystemModstamp"] > before
    job_id = result[0]["job_id"]
    ok = _rows(sf.bulk2.Opportunity.get_successful_records(job_id))
    assert [(r["sf__Id"], r["sf__Created"], r["Amount"]) for r in ok] == [(_opp_id(0), "false", "42.5")]
    failed = {r["Id"]: r for r in _rows(sf.bulk2.Opportunity.get_failed_records(job_id))}
    assert failed[_opp_id(1)]["sf__Error"].startswith("INVALID_TYPE_ON_FIELD_IN_RECORD:")
    assert failed[_opp_id(1)]["sf__Error"].endswith(":Amount --")
    assert failed["006bad"]["sf__Error"].startswith("MALFORMED_ID:")
    assert sandbox.sf.records["Opportunity"][_opp_id(1)]["QBO_Invoice_Status__c"] is None  # untouched
    unprocessed = sf.bulk2.Opportunity.get_unprocessed_records(job_id)
    assert _rows(unprocessed) == []


def test_bulk_ingest_upsert_by_external_id(small):
    sandbox, sf = small
    sf.Opportunity.update(_opp_id(2), {"QBO_Invoice_Id__c": "INV-2"})
    account_id = to18("001Ab0000000001")
    result = sf.bulk2.Opportunity.upsert(
        records=[
            {"QBO_Invoice_Id__c": "INV-2", "QBO_Balance_Due__c": "10.00", "Name": "", "StageName": "",
             "CloseDate": "", "AccountId": ""},
            {"QBO_Invoice_Id__c": "INV-9", "QBO_Balance_Due__c": "0", "Name": "From invoice",
             "StageName": "Closed Won", "CloseDate": "2026-11-01", "AccountId": account_id},
            {"QBO_Invoice_Id__c": "INV-10", "QBO_Balance_Due__c": "1", "Name": "No stage", "StageName": "",
             "CloseDate": "2026-11-01", "AccountId": ""},
        ],
        external_id_field="QBO_Invoice_Id__c",
        wait=WAIT,
    )
    assert result[0]["numberRecordsFailed"] == 1
    ok = {r["QBO_Invoice_Id__c"]: r for r in _rows(sf.bulk2.Opportunity.get_successful_records(result[0]["job_id"]))}
    assert ok["INV-2"]["sf__Id"] == _opp_id(2) and ok["INV-2"]["sf__Created"] == "false"
    assert ok["INV-9"]["sf__Created"] == "true"
    created = sandbox.sf.records["Opportunity"][ok["INV-9"]["sf__Id"]]
    assert created["IsWon"] is True and created["Name"] == "From invoice"
    failed = _rows(sf.bulk2.Opportunity.get_failed_records(result[0]["job_id"]))
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:Required fields are missing: [StageName]")
    assert failed[0]["sf__Id"] == ""


def test_bulk_ingest_unknown_column_fails_the_job_and_leaves_records_unprocessed(small):
    sandbox, sf = small
    with pytest.raises(SalesforceOperationError) as exc:
        sf.bulk2.Opportunity.update(records=[{"Id": _opp_id(0), "Bogus__c": "x"}], wait=WAIT)
    assert "Field name not found : Bogus__c" in str(exc.value)
    job_id = next(iter(sandbox.sf.ingest_jobs))
    info = sf.bulk2.Opportunity._client.get_job(job_id, False)
    assert info["state"] == "Failed"
    unprocessed = _rows(sf.bulk2.Opportunity.get_unprocessed_records(job_id))
    assert unprocessed == [{"Id": _opp_id(0), "Bogus__c": "x"}]
    # Salesforce documents the lower-case spelling; both must work.
    lower = sf.session.get(
        f"{sandbox.sf_url}/services/data/v62.0/jobs/ingest/{job_id}/unprocessedrecords/",
        headers={"Authorization": f"Bearer {sf.session_id}"},
    )
    assert lower.status_code == 200 and _rows(lower.text) == unprocessed


def test_bulk_ingest_abort_and_delete(small):
    sandbox, sf = small
    client = sf.bulk2.Opportunity._client
    job = client.create_job("update")
    assert job["state"] == "Open" and job["contentUrl"].endswith(f"/jobs/ingest/{job['id']}/batches")
    client.upload_job_data(job["id"], f"Id,Name\n{_opp_id(0)},Aborted\n")
    aborted = client.abort_job(job["id"], False)
    assert aborted["state"] == "Aborted"
    assert sandbox.sf.records["Opportunity"][_opp_id(0)]["Name"] == "Opp 00000"
    assert _rows(client.get_ingest_results(job["id"], "unprocessedRecords")) == [{"Id": _opp_id(0), "Name": "Aborted"}]
    deleted = sf.bulk2.Opportunity.delete(records=[{"Id": _opp_id(5)}], wait=WAIT)
    assert deleted[0]["numberRecordsFailed"] == 0
    assert sandbox.sf.records["Opportunity"][_opp_id(5)]["IsDeleted"] is True
    ingest_calls = [e for e in sandbox.sf.request_log if "/jobs/ingest" in e["path"] and e["method"] != "GET"]
    assert ingest_calls and all(e["write"] for e in ingest_calls)


def test_bulk_query_delimiter_line_ending_and_abort(small):
    _, sf = small
    pages = list(sf.bulk2.Account.query(
        "SELECT Name, BillingCity FROM Account WHERE Name = 'Acme Corp'",
        column_delimiter="PIPE", line_ending="CRLF", wait=WAIT))
    assert pages == ['"Name"|"BillingCity"\r\n"Acme Corp"|"Springfield"\r\n']
    client = sf.bulk2.Account._client
    job = client.create_job("query", query="SELECT Id FROM Account")
    assert client.abort_job(job["id"], True)["state"] == "Aborted"
    with pytest.raises(SalesforceOperationError):
        client.wait_for_job(job["id"], True, WAIT)
    with pytest.raises(SalesforceMalformedRequest):  # an aborted job cannot be aborted again
        client.abort_job(job["id"], True)
