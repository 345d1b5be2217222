"""Fixtures for the emulator tests (shared by the Salesforce and QBO test modules; add, don't change)."""

from __future__ import annotations

import pytest

# ---- QBO -----------------------------------------------------------------------------------------

QBO_STAMP = "2026-11-20T09:00:00.000-08:00"


def qbo_small_company() -> dict[str, list[dict]]:
    """A hand-made company: 2 customers (USD, EUR), 2 items, a Net 30 term, 2 invoices, no payments."""
    meta = {"CreateTime": QBO_STAMP, "LastUpdatedTime": QBO_STAMP}
    return {
        "Term": [{"Id": "3", "SyncToken": "0", "Name": "Net 30", "DueDays": 30, "Active": True,
                  "Type": "STANDARD", "MetaData": meta}],
        "Customer": [
            {"Id": "1", "SyncToken": "0", "DisplayName": "Acme Corp", "CompanyName": "Acme Corp",
             "Active": True, "Balance": 150.0, "BalanceWithJobs": 150.0,
             "CurrencyRef": {"value": "USD", "name": "United States Dollar"}, "MetaData": meta},
            {"Id": "2", "SyncToken": "0", "DisplayName": "Bäckerei Müller GmbH", "Active": True,
             "Balance": 0, "CurrencyRef": {"value": "EUR", "name": "Euro"}, "MetaData": meta},
        ],
        "Item": [
            {"Id": "1", "SyncToken": "0", "Name": "Services", "Type": "Service", "UnitPrice": 0,
             "Active": True, "IncomeAccountRef": {"value": "79"}, "MetaData": meta},
            {"Id": "2", "SyncToken": "0", "Name": "Consulting Hours", "Type": "Service", "UnitPrice": 150,
             "Sku": "CONS-H", "Active": True, "IncomeAccountRef": {"value": "79"}, "MetaData": meta},
        ],
        "Invoice": [
            {"Id": "101", "SyncToken": "0", "DocNumber": "1001", "TxnDate": "2026-11-01", "DueDate": "2026-12-01",
             "CustomerRef": {"value": "1", "name": "Acme Corp"}, "CurrencyRef": {"value": "USD"},
             "ExchangeRate": 1, "TotalAmt": 100.0, "Balance": 100.0, "HomeTotalAmt": 100.0,
             "PrivateNote": "SF 006000000000001AAA",
             "Line": [{"Id": "1", "LineNum": 1, "Amount": 100.0, "DetailType": "SalesItemLineDetail",
                       "SalesItemLineDetail": {"ItemRef": {"value": "2", "name": "Consulting Hours"},
                                               "Qty": 1, "UnitPrice": 100}}],
             "MetaData": meta},
            {"Id": "102", "SyncToken": "0", "DocNumber": "1002", "TxnDate": "2026-11-05", "DueDate": "2026-12-05",
             "CustomerRef": {"value": "1", "name": "Acme Corp"}, "CurrencyRef": {"value": "USD"},
             "ExchangeRate": 1, "TotalAmt": 50.0, "Balance": 50.0, "HomeTotalAmt": 50.0,
             "Line": [{"Id": "1", "LineNum": 1, "Amount": 50.0, "DetailType": "SalesItemLineDetail",
                       "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}],
             "MetaData": meta},
        ],
    }


@pytest.fixture
def qbo_sandbox(sandbox_factory):
    """A running sandbox over `qbo_small_company()`; pass settings with `qbo_sandbox_with`."""
    from sandbox.dataset import Dataset

    return sandbox_factory(dataset=Dataset(qbo=qbo_small_company()))


@pytest.fixture
def qbo_connect():
    """connect(sandbox) -> (AuthClient, QuickBooks), wired exactly as the pipeline does it.

    The clients' sessions are closed at teardown: an idle kept-alive TLS connection makes the
    server's shutdown wait for its close_notify.
    """
    sessions = []

    def connect(sandbox, refresh_token: str | None = None):
        from intuitlib.client import AuthClient
        from quickbooks import QuickBooks

        env = sandbox.env
        auth = AuthClient(env["LEDGERLINK_QBO_CLIENT_ID"], env["LEDGERLINK_QBO_CLIENT_SECRET"],
                          "http://localhost/callback", environment=env["LEDGERLINK_QBO_ENVIRONMENT"])
        auth.refresh(refresh_token=refresh_token or env["LEDGERLINK_QBO_REFRESH_TOKEN"])
        qb = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token,
                        company_id=env["LEDGERLINK_QBO_REALM_ID"], minorversion=75)
        qb.api_url_v3 = env["LEDGERLINK_QBO_API_URL"]
        qb.session.verify = sandbox.ca_path
        # REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment would override `verify`.
        qb.session.trust_env = False
        sessions.extend([auth, qb.session])
        return auth, qb

    yield connect
    for session in sessions:
        session.close()


# ---- Salesforce ----------------------------------------------------------------------------------

SF_USER_NAME = "integration@ledgerlink.test"


def sf_small_org(opportunities: int = 4500) -> dict[str, list[dict]]:
    """A hand-made org: 2 users, 3 accounts, `opportunities` opportunities (2 of them deleted),
    a product with a pricebook entry and one line item.

    Opportunity i: Name "Opp {i:05d}", Amount i, StageName cycles Prospecting / Closed Won /
    Closed Lost, CloseDate = today - (i % 200) days, account cycles over the 3 accounts.
    """
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from sandbox.salesforce.ids import to18

    def sid(prefix: str, n: int) -> str:
        return to18(f"{prefix}Ab{n:010d}")

    stamp = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
    today = datetime.now(UTC).date()
    users = [
        {"Id": sid("005", 1), "Username": SF_USER_NAME, "LastName": "Integration", "Email": SF_USER_NAME,
         "IsActive": True},
        {"Id": sid("005", 2), "Username": "rep@ledgerlink.test", "FirstName": "Rita", "LastName": "Rep",
         "Email": "rep@ledgerlink.test", "IsActive": True},
    ]
    accounts = [
        {"Id": sid("001", 1), "Name": "Acme Corp", "BillingCity": "Springfield", "OwnerId": users[1]["Id"],
         "QBO_Customer_Id__c": "1", "SystemModstamp": stamp},
        {"Id": sid("001", 2), "Name": "O'Brien's Bakery", "BillingCity": "Cork", "SystemModstamp": stamp},
        {"Id": sid("001", 3), "Name": 'Globex "International"', "Website": "https://globex.test",
         "SystemModstamp": stamp},
        {"Id": sid("001", 4), "Name": "Gone Ltd", "IsDeleted": True, "SystemModstamp": stamp},
    ]
    stages = ["Prospecting", "Closed Won", "Closed Lost"]
    opps = []
    for i in range(opportunities):
        opps.append({
            "Id": sid("006", i),
            "Name": f"Opp {i:05d}",
            "AccountId": accounts[i % 3]["Id"],
            "OwnerId": users[1]["Id"],
            "StageName": stages[i % 3],
            "CloseDate": today - timedelta(days=i % 200),
            "Amount": Decimal(i),
            "CurrencyIsoCode": "USD" if i % 2 else "EUR",
            "CreatedDate": stamp,
            "SystemModstamp": stamp + timedelta(seconds=i),
            "IsDeleted": i in (7, 8),
        })
    product = {"Id": sid("01t", 1), "Name": "Consulting Hours", "ProductCode": "CONS-H", "IsActive": True}
    pricebook = {"Id": sid("01s", 1), "Name": "Standard Price Book", "IsActive": True, "IsStandard": True}
    entry = {"Id": sid("01u", 1), "Pricebook2Id": pricebook["Id"], "Product2Id": product["Id"],
             "UnitPrice": Decimal("150.00"), "IsActive": True, "CurrencyIsoCode": "USD"}
    line = {"Id": sid("00k", 1), "OpportunityId": sid("006", 1), "PricebookEntryId": entry["Id"],
            "Product2Id": product["Id"], "Name": "Opp 00001 Consulting Hours", "Quantity": Decimal("2"),
            "UnitPrice": Decimal("150.00"), "TotalPrice": Decimal("300.00"), "ServiceDate": date(2026, 1, 10)}
    return {
        "User": users,
        "Account": accounts,
        "Opportunity": opps,
        "Product2": [product],
        "Pricebook2": [pricebook],
        "PricebookEntry": [entry],
        "OpportunityLineItem": [line] if opportunities > 1 else [],
    }


@pytest.fixture
def sf_sandbox_with(sandbox_factory):
    """sf_sandbox_with(opportunities=4500, **settings) -> a running sandbox over `sf_small_org()`."""
    from sandbox.dataset import Dataset

    def make(opportunities: int = 4500, **settings):
        return sandbox_factory(dataset=Dataset(salesforce=sf_small_org(opportunities)), **settings)

    return make


@pytest.fixture
def sf_sandbox(sf_sandbox_with):
    return sf_sandbox_with()


@pytest.fixture
def sf_connect():
    """connect(sandbox) -> simple_salesforce.Salesforce, connected exactly as the pipeline does.

    Sessions are closed at teardown so the server can shut down without waiting on kept-alive
    TLS connections.
    """
    sessions = []

    def session(sandbox):
        import requests

        s = requests.Session()
        s.verify = sandbox.ca_path
        s.trust_env = False
        sessions.append(s)
        return s

    def token(sandbox, s=None):
        s = s or session(sandbox)
        env = sandbox.env
        response = s.post(
            f"{sandbox.sf_url}/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(env["LEDGERLINK_SF_CLIENT_ID"], env["LEDGERLINK_SF_CLIENT_SECRET"]),
        )
        response.raise_for_status()
        return response.json()

    def connect(sandbox):
        import simple_salesforce

        s = session(sandbox)
        tok = token(sandbox, s)
        return simple_salesforce.Salesforce(
            instance_url=tok["instance_url"], session_id=tok["access_token"], session=s, version="62.0"
        )

    connect.session = session
    connect.token = token
    yield connect
    for s in sessions:
        s.close()
