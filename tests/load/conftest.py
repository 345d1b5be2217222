"""Fixtures for the load tests: a small hand-made world in staging."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.config import Settings
from tests.load.staging import put_qbo, put_sf

AS_OF = date(2026, 11, 20)
_db_counter = itertools.count()

# 18-character Ids with the real key prefixes.
ACME = "001000000000001AAA"
GLOBEX = "001000000000002AAA"
INITECH = "001000000000003AAA"
OPP_ACME = "006000000000001AAA"
OPP_GLOBEX = "006000000000002AAA"
OPP_INITECH = "006000000000003AAA"
OPP_OPEN = "006000000000004AAA"
WIDGET = "01t000000000001AAA"
GADGET = "01t000000000002AAA"


@pytest.fixture
def settings() -> Settings:
    return Settings()


def _opp(id_, account, name, amount, stage="Closed Won", currency="USD", close=date(2026, 11, 2)):
    return {"Id": id_, "Name": name, "AccountId": account, "StageName": stage, "IsWon": stage == "Closed Won",
            "IsClosed": stage.startswith("Closed"), "CloseDate": close, "Amount": Decimal(amount),
            "CurrencyIsoCode": currency}


def _line(id_, opp, product, name, qty, unit, total=None):
    return {"Id": id_, "OpportunityId": opp, "Product2Id": product, "Name": name, "Quantity": Decimal(qty),
            "UnitPrice": Decimal(unit),
            "TotalPrice": Decimal(total) if total is not None else Decimal(qty) * Decimal(unit)}


@pytest.fixture
def world(conn):
    """Three Closed Won opportunities and one open one.

    Acme is linked to QBO customer 1; Globex has no customer (one will be created);
    Initech probably exists in QBO (awaits review). The Gadget product has no QBO item.
    """
    put_sf(conn, "Account", [
        {"Id": ACME, "Name": "Acme Corp", "BillingStreet": "1 Main St", "BillingCity": "Springfield",
         "BillingState": "IL", "BillingPostalCode": "62701", "BillingCountry": "US", "Phone": "555-0100"},
        {"Id": GLOBEX, "Name": "Globex  Ltd", "BillingCity": "London", "BillingCountry": "GB"},
        {"Id": INITECH, "Name": "Initech", "BillingCity": "Austin"},
    ])
    put_sf(conn, "Contact", [{"Id": "003000000000001AAA", "AccountId": GLOBEX, "LastName": "Smith",
                              "Email": "ap@globex.example"}])
    put_sf(conn, "Product2", [
        {"Id": WIDGET, "Name": "Widget", "ProductCode": "W-1", "IsActive": True},
        {"Id": GADGET, "Name": "Gadget", "ProductCode": "G-1", "IsActive": True},
    ])
    put_sf(conn, "Opportunity", [
        _opp(OPP_ACME, ACME, "Acme renewal", "250.00"),
        _opp(OPP_GLOBEX, GLOBEX, "Globex expansion", "1000.00", currency="GBP"),
        _opp(OPP_INITECH, INITECH, "Initech deal", "99.00"),
        _opp(OPP_OPEN, ACME, "Acme upsell", "10.00", stage="Negotiation"),
    ])
    put_sf(conn, "OpportunityLineItem", [
        _line("00k000000000001AAA", OPP_ACME, WIDGET, "Acme renewal Widget", "2", "100.00"),
        _line("00k000000000002AAA", OPP_ACME, GADGET, "Acme renewal Gadget", "1", "50.00"),
        _line("00k000000000003AAA", OPP_GLOBEX, WIDGET, "Globex Widget", "10", "120.00", "1000.00"),
        _line("00k000000000004AAA", OPP_INITECH, WIDGET, "Initech Widget", "1", "99.00"),
    ])
    put_qbo(conn, "Item", [
        {"Id": "11", "Name": "Widget", "Sku": "W-1", "Type": "Service", "Active": True, "SyncToken": "0"},
        {"Id": "12", "Name": "Services", "Type": "Service", "Active": True, "SyncToken": "0"},
    ])
    put_qbo(conn, "Term", [
        {"Id": "3", "Name": "Net 30", "DueDays": 30, "Active": True, "SyncToken": "0"},
        {"Id": "4", "Name": "Net 15", "DueDays": 15, "Active": True, "SyncToken": "0"},
    ])
    put_qbo(conn, "Customer", [
        {"Id": "1", "DisplayName": "Acme Corporation", "CurrencyRef": {"value": "USD"}, "Active": True,
         "SalesTermRef": {"value": "4"}, "SyncToken": "0"},
        {"Id": "2", "DisplayName": "Initech Inc", "CurrencyRef": {"value": "USD"}, "Active": True, "SyncToken": "0"},
    ])
    conn.execute(
        "insert into sync.customer_xref (sf_account_id, qb_customer_id, method, score) values (%s, '1', 'auto', 0.97)",
        [ACME],
    )
    add_review(conn, INITECH, "2")
    return conn


def add_review(conn, account: str, customer: str) -> None:
    conn.execute(
        "insert into sync.match_review (sf_account_id, qb_customer_id, score, status) values (%s, %s, 0.8, 'pending')",
        [account, customer],
    )


# ---- sandboxes -------------------------------------------------------------------------------


_open_clients: list = []


@pytest.fixture(autouse=True)
def _close_clients(request):
    if "sandbox_factory" in request.fixturenames:
        request.getfixturevalue("sandbox_factory")  # set up first, so stopped after the clients close
    """Close client sessions, or the sandbox's servers wait for idle keep-alive connections."""
    yield
    while _open_clients:
        client = _open_clients.pop()
        for session in (getattr(getattr(client, "_qb", None), "session", None), getattr(client, "_session", None)):
            if session is not None:
                session.close()


def qbo_client(env: dict, db_url: str, **kwargs):
    """The real QBO client pointed at a sandbox (what the `qbo` resource builds)."""
    from ledgerlink.clients.qbo import QboClient, QboCredentials

    creds = QboCredentials(
        client_id=env["LEDGERLINK_QBO_CLIENT_ID"], client_secret=env["LEDGERLINK_QBO_CLIENT_SECRET"],
        refresh_token=env["LEDGERLINK_QBO_REFRESH_TOKEN"], realm_id=env["LEDGERLINK_QBO_REALM_ID"],
        environment=env["LEDGERLINK_QBO_ENVIRONMENT"], api_url=env["LEDGERLINK_QBO_API_URL"],
        ca_bundle=env["LEDGERLINK_CA_BUNDLE"])
    client = QboClient(creds, database_url=db_url, **kwargs).connect()
    _open_clients.append(client)
    return client


def load_dataset(conn, dataset) -> None:
    """Staging as a full extract of the dataset would leave it."""
    from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS

    for spec in SALESFORCE_OBJECTS:
        put_sf(conn, spec.name, dataset.salesforce.get(spec.name, []))
    for spec in QBO_ENTITIES:
        put_qbo(conn, spec.name, dataset.qbo.get(spec.name, []))


def link_truth(conn, dataset) -> None:
    """customer_xref as a perfect matcher would leave it (ground-truth links)."""
    for account, customer in dataset.truth.customer_links:
        conn.execute("insert into sync.customer_xref (sf_account_id, qb_customer_id, method, score)"
                     " values (%s, %s, 'auto', 1) on conflict do nothing", [account, customer])


def sf_client(env: dict):
    from ledgerlink.clients.salesforce import SalesforceClient, SalesforceCredentials

    client = SalesforceClient(SalesforceCredentials(
        login_url=env["LEDGERLINK_SF_LOGIN_URL"], client_id=env["LEDGERLINK_SF_CLIENT_ID"],
        client_secret=env["LEDGERLINK_SF_CLIENT_SECRET"], ca_bundle=env["LEDGERLINK_CA_BUNDLE"]),
        poll_wait_s=0.1, poll_max_wait_s=0.5).connect()
    _open_clients.append(client)
    return client


def tiny_dataset(seed: int = 3):
    from sandbox.generator import generate

    return generate("tiny", seed=seed)


def extract_qbo(conn, client, entities=("Customer", "Invoice", "Payment", "CreditMemo")) -> None:
    """The real QBO extract, in full, for the entities the loads read."""
    from ledgerlink.extract.qbo import extract_entity
    from ledgerlink.extract.specs import SPECS_BY_KEY

    for name in entities:
        extract_entity(client, conn, SPECS_BY_KEY[("qbo", name)], run_id="test-extract", full_refresh=True)


@pytest.fixture
def second_db(pg_server_url, template_db_url):
    """Another fresh migrated database (for a reference run beside the test's own)."""
    import psycopg

    from ledgerlink import db

    name = f"t2_{next(_db_counter)}_{id(object()) % 100000}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f"create database {name} template ll_template")
    yield db.with_database(pg_server_url, name)
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f"drop database if exists {name} with (force)")


def invoice_snapshot(company) -> dict[str, list[tuple]]:
    """LedgerLink's invoices in a QBO emulator, by DocNumber, in a form two runs can compare."""
    customers = company.entities["Customer"]
    out: dict[str, list[tuple]] = {}
    for inv in company.entities["Invoice"].values():
        doc = inv.get("DocNumber") or ""
        if not doc.startswith("SF-"):
            continue
        lines = tuple(
            (ln["SalesItemLineDetail"]["ItemRef"]["value"], str(ln["SalesItemLineDetail"].get("Qty")),
             str(ln["SalesItemLineDetail"].get("UnitPrice")), str(ln["Amount"]))
            for ln in inv["Line"] if ln.get("DetailType") == "SalesItemLineDetail")
        customer = customers[inv["CustomerRef"]["value"]]["DisplayName"]
        out.setdefault(doc, []).append((customer, inv["TxnDate"], inv.get("DueDate"),
                                        inv["CurrencyRef"]["value"], str(inv["TotalAmt"]), lines,
                                        inv.get("PrivateNote")))
    return out


@pytest.fixture
def loaded(conn, db_url, settings, sandbox_factory):
    """Invoices created for every Closed Won opportunity of the tiny dataset, through the real
    sender against the QBO sandbox; returns (sandbox, qbo client, salesforce client, dataset)."""
    from ledgerlink.load.planner import plan_invoices
    from ledgerlink.load.sender import send_outbox

    dataset = tiny_dataset()
    sandbox = sandbox_factory(dataset=dataset, time_scale=600)
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    plan_invoices(conn, settings, as_of=dataset.as_of, run_id="r1")
    qbo = qbo_client(sandbox.env, db_url, time_scale=600)
    assert send_outbox(db_url, qbo, max_attempts=3, run_id="r1").aborted is None
    return sandbox, qbo, sf_client(sandbox.env), dataset
