"""Scenario folders: exact cases stated in small files, their defaults, their errors, and serving them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.generator import ScenarioError, generate, load_scenario, write_dataset

SCENARIOS = Path(__file__).parent / "scenarios"
ONE_OF_EACH = SCENARIOS / "one_of_each"


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def _key(row: dict) -> tuple:
    return (row["month"], row["sf_opportunity_id"] or "", row["qb_invoice_id"] or "")


def test_hand_stated_truth_agrees_with_the_rules():
    dataset = load_scenario(ONE_OF_EACH)
    stated = sorted(dataset.truth.reconciliation, key=_key)
    computed = sorted(dataset.extras["computed_reconciliation"], key=_key)
    assert stated == computed
    assert {r["category"] for r in stated} == {
        "MATCHED", "NOT_INVOICED", "PARTIALLY_INVOICED", "AMOUNT_MISMATCH", "TIMING_DIFFERENCE",
        "CURRENCY_DIFFERENCE", "CREDITED", "VOIDED_OR_DELETED", "CUSTOMER_MISMATCH", "DUPLICATE_INVOICE",
        "INVOICED_WITHOUT_OPPORTUNITY",
    }


def test_minimal_files_get_the_fields_a_real_record_has():
    dataset = load_scenario(ONE_OF_EACH)
    assert dataset.as_of == date(2026, 11, 22)
    opps = {o["Id"]: o for o in dataset.salesforce["Opportunity"]}
    partial = opps["006000000000003AAA"]
    assert partial["Amount"] == Decimal("1000.00")  # 10 x 60 + 1 x 400 from the line items
    assert partial["IsWon"] is True and partial["IsClosed"] is True and partial["IsDeleted"] is False
    assert partial["CloseDate"] == date(2026, 10, 6)
    assert partial["CurrencyIsoCode"] == "USD"
    assert isinstance(partial["SystemModstamp"], datetime) and partial["SystemModstamp"].tzinfo is not None
    lost = opps["006000000000011AAA"]
    assert (lost["IsWon"], lost["IsClosed"]) == (False, True)
    assert opps["006000000000012AAA"]["IsDeleted"] is True
    items = dataset.salesforce["OpportunityLineItem"]
    assert all(i["Id"].startswith("00k") and len(i["Id"]) == 18 for i in items)
    assert items[0]["TotalPrice"] == Decimal("600.00") and items[0]["Quantity"] == Decimal("10")
    account = dataset.salesforce["Account"][0]
    assert account["Phone"] is None and account["QBO_Customer_Id__c"] == "1"

    invoices = {i["Id"]: i for i in dataset.qbo["Invoice"]}
    matched = invoices["101"]
    assert matched["TotalAmt"] == matched["Balance"] == matched["HomeTotalAmt"] == Decimal("1000.00")
    assert matched["SyncToken"] == "0" and matched["MetaData"]["CreateTime"].endswith(("-08:00", "-07:00"))
    assert matched["DueDate"] == "2026-10-05" and matched["CurrencyRef"]["value"] == "USD"
    assert matched["Line"][0]["DetailType"] == "SalesItemLineDetail" and matched["Line"][0]["Amount"] == Decimal("1000")
    euro = invoices["112"]
    assert euro["CurrencyRef"]["value"] == "EUR" and euro["ExchangeRate"] == Decimal("1.08")
    assert euro["HomeTotalAmt"] == Decimal("108.00")
    customers = {c["Id"]: c for c in dataset.qbo["Customer"]}
    assert customers["3"]["Balance"] == Decimal("100")
    # Customer 1: its open invoices (1000+600+900+200+1080+300, the voided one is 0) minus the 100 credit.
    assert customers["1"]["Balance"] == Decimal("3980")
    assert dataset.qbo["CreditMemo"][0]["RemainingCredit"] == Decimal("100")


def test_lookalikes_scenario_keeps_its_stated_links_and_clusters():
    dataset = load_scenario(SCENARIOS / "lookalikes")
    accounts = {a["Id"]: a for a in dataset.salesforce["Account"]}
    assert accounts["001000000000001AAA"]["BillingStreet"] == "200 Main Street\nSuite 200"
    assert accounts["001000000000002AAA"]["BillingPostalCode"] is None
    links = set(dataset.truth.customer_links)
    assert ("001000000000001AAA", "2") in links and ("001000000000003AAA", "1") not in links
    assert dataset.truth.sf_duplicate_clusters == [["001000000000001AAA", "001000000000002AAA"]]
    assert dataset.truth.qb_duplicate_clusters == [["1", "2"]]
    linked_customers = {c for _, c in links}
    assert [c["Id"] for c in dataset.qbo["Customer"] if c["Id"] not in linked_customers] == ["5"]
    assert dataset.truth.reconciliation == []  # no deals, no invoices


def test_truth_comes_from_account_links_when_no_truth_file(tmp_path):
    folder = _write(
        tmp_path / "case",
        {
            "meta.json": '{"as_of": "2026-03-10"}',
            "salesforce/Account.json": '[{"Id": "001000000000001", "Name": "Acme", "QBO_Customer_Id__c": 7}]',
            "salesforce/Opportunity.csv": "Id,AccountId,Name,StageName,CloseDate,Amount\n"
            "006000000000001,001000000000001AAA,Deal,Closed Won,2026-02-27,100\n",
            "qbo/Customer.csv": "Id,DisplayName,CurrencyRef.value\n7,Acme Inc,USD\n8,Acme Foods,USD\n",
            "qbo/Invoice.csv": 'Id,CustomerRef.value,TxnDate,PrivateNote,Line\n'
            '50,8,2026-02-28,opp 006000000000001AAA,"[{""SalesItemLineDetail"": {""Qty"": 1, ""UnitPrice"": 100}}]"\n',
        },
    )
    dataset = load_scenario(folder)
    assert dataset.salesforce["Account"][0]["Id"] == "001000000000001AAA"
    assert dataset.truth.customer_links == [("001000000000001AAA", "7")]
    (row,) = dataset.truth.reconciliation
    assert row["category"] == "CUSTOMER_MISMATCH"  # billed to customer 8, the account is linked to 7
    assert row["closed_won_home"] == row["invoiced_home"] == Decimal("100.00")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"salesforce/Opportunity.csv": "Name,StageName,CloseDate\nA,Closed Won,2026-01-02\nB,Closed Won,2026-13-01\n"},
            "salesforce/Opportunity.csv, row 2, field CloseDate: '2026-13-01' is not a date",
        ),
        (
            {"salesforce/Opportunity.json": '[{"Name": "A", "StageName": "Closed Won", "Amount": "1,200.00"}]'},
            "salesforce/Opportunity.json, row 1, field Amount: '1,200.00' is not a number",
        ),
        (
            {"salesforce/Account.csv": "Name,IsDeleted\nAcme,maybe\n"},
            "salesforce/Account.csv, row 1, field IsDeleted: 'maybe' is not a boolean",
        ),
        (
            {"salesforce/Opportunity.json": '[{"Id": "001000000000001AAA", "Name": "A"}]'},
            "salesforce/Opportunity.json, row 1, field Id: '001000000000001AAA' is not a Salesforce Id starting with 006",
        ),
        (
            {"salesforce/Contact.json": '[{"AccountId": "acme"}]'},
            "salesforce/Contact.json, row 1, field AccountId: 'acme' is not a Salesforce Id starting with 001",
        ),
        (
            {"salesforce/Lead.json": "[]"},
            "salesforce/Lead.json: unknown Salesforce object 'Lead'",
        ),
        (
            {"qbo/Invoice.json": '[{"Id": "1", "TxnDate": "yesterday", "Line": []}]'},
            "qbo/Invoice.json, row 1, field TxnDate: 'yesterday' is not a date",
        ),
        (
            {"qbo/Invoice.json": '[{"Id": "1", "TxnDate": "2026-01-01", "Line": [{"Amount": "ten"}]}]'},
            "qbo/Invoice.json, row 1, field Line[0].Amount: 'ten' is not a number",
        ),
        (
            {"qbo/Invoice.json": '[{"TxnDate": "2026-01-01", "CurrencyRef": {"value": "JPY"}, "Line": []}]'},
            "qbo/Invoice, row 1, field CurrencyRef.value: 'JPY' is not one of USD, EUR, GBP, CAD",
        ),
        ({"qbo/Invoice.json": '[{"Id": "1",}]'}, "qbo/Invoice.json: not valid JSON"),
        ({"qbo/Bill.json": "[]"}, "qbo/Bill.json: unknown QBO entity 'Bill'"),
        (
            {"qbo/Customer.json": "[]", "qbo/Customer.csv": "Id\n"},
            "qbo/Customer: both Customer.csv and Customer.json exist",
        ),
        ({"meta.json": '{"as_of": "22/11/2026"}'}, "meta.json, field as_of: '22/11/2026' is not a date"),
        ({"meta.json": "{as_of: 2026-11-22}"}, "meta.json: not valid JSON"),
    ],
)
def test_bad_values_are_named_by_file_row_and_field(tmp_path, files, message):
    with pytest.raises(ScenarioError) as excinfo:
        load_scenario(_write(tmp_path / "bad", files))
    assert message in str(excinfo.value)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope")


def test_written_truth_round_trips(tmp_path):
    dataset = generate("tiny", seed=2, as_of=date(2026, 11, 22))
    path = write_dataset(dataset, tmp_path / "state")
    written = json.loads(path.read_text())
    assert written["reconciliation"] == dataset.truth.to_json()["reconciliation"]
    assert [tuple(p) for p in written["customer_links"]] == dataset.truth.customer_links
    summary = json.loads((tmp_path / "state" / "summary.json").read_text())
    assert summary["profile"] == "tiny" and summary["seed"] == 2 and summary["as_of"] == "2026-11-22"
    assert summary["qbo"]["Invoice"] == len(dataset.qbo["Invoice"])
    assert sum(summary["reconciliation_categories"].values()) == len(dataset.truth.reconciliation)


def test_serve_prints_the_environment_and_answers_both_apis(tmp_path):
    """`ledgerlink sandbox serve --scenario` end to end: real clients read the scenario's records."""
    import requests
    from simple_salesforce import Salesforce

    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.cli", "serve", "--scenario", str(ONE_OF_EACH), "--state-dir", str(state),
         "--sf-port", "0", "--qbo-port", "0", "--oauth-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        env = {}
        while "LEDGERLINK_CA_BUNDLE" not in env:
            line = proc.stdout.readline()
            assert line, f"serve exited early: {proc.stderr.read()}"
            assert line.startswith("export ")
            key, _, value = line.removeprefix("export ").strip().partition("=")
            env[key] = value
        assert (state / "truth.json").exists() and (state / "env.sh").read_text().count("export ") == len(env)
        assert oct((state / "env.sh").stat().st_mode & 0o777) == "0o600"

        session = requests.Session()
        session.verify = env["LEDGERLINK_CA_BUNDLE"]
        session.trust_env = False
        token = session.post(
            env["LEDGERLINK_SF_LOGIN_URL"] + "/services/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": env["LEDGERLINK_SF_CLIENT_ID"],
                  "client_secret": env["LEDGERLINK_SF_CLIENT_SECRET"]},
        ).json()
        sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=session)
        won = sf.query_all("SELECT Id, Amount FROM Opportunity WHERE IsWon = true ORDER BY Id")["records"]
        assert [r["Id"] for r in won][:2] == ["006000000000001AAA", "006000000000002AAA"]
        assert won[0]["Amount"] == 1000

        from intuitlib.client import AuthClient
        from quickbooks import QuickBooks
        from quickbooks.objects.invoice import Invoice

        auth = AuthClient(env["LEDGERLINK_QBO_CLIENT_ID"], env["LEDGERLINK_QBO_CLIENT_SECRET"],
                          "http://localhost/callback", environment=env["LEDGERLINK_QBO_ENVIRONMENT"])
        auth.refresh(refresh_token=env["LEDGERLINK_QBO_REFRESH_TOKEN"])
        qb = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token,
                        company_id=env["LEDGERLINK_QBO_REALM_ID"], minorversion=75)
        qb.api_url_v3 = env["LEDGERLINK_QBO_API_URL"]
        qb.session.verify = env["LEDGERLINK_CA_BUNDLE"]
        qb.session.trust_env = False
        invoice = Invoice.get(112, qb=qb)
        assert invoice.CurrencyRef.value == "EUR" and float(invoice.TotalAmt) == 100
    finally:
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read()


def test_serve_rejects_a_bad_scenario_with_the_reason(tmp_path):
    folder = _write(tmp_path / "bad", {"salesforce/Account.csv": "Name,IsDeleted\nAcme,maybe\n"})
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "serve", "--scenario", str(folder), "--state-dir", str(tmp_path / "s")],
        capture_output=True, text=True, cwd=Path(__file__).parents[2], timeout=120,
    )
    assert result.returncode == 2
    assert "salesforce/Account.csv, row 1, field IsDeleted" in result.stderr
    assert result.stdout == ""


def test_generated_timestamps_never_lie_in_the_future_of_as_of():
    dataset = generate("tiny", seed=5, as_of=date(2026, 11, 22))
    limit = datetime(2026, 11, 22, tzinfo=UTC)
    for records in dataset.salesforce.values():
        assert all(r["SystemModstamp"] <= limit for r in records)
    for records in dataset.qbo.values():
        assert all(datetime.fromisoformat(r["MetaData"]["LastUpdatedTime"]) <= limit for r in records)
