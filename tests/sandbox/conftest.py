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
    """connect(sandbox) -> (AuthClient, QuickBooks), wired exactly as the pipeline does it."""

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
        return auth, qb

    return connect
