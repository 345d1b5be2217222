"""Fixtures for the client tests: a private LEDGERLINK_HOME (token key) and credentials from a sandbox."""

from __future__ import annotations

import pytest

from ledgerlink.clients.qbo import QboCredentials
from ledgerlink.clients.salesforce import SalesforceCredentials


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Token keys go to a temporary LEDGERLINK_HOME, never the developer's own."""
    home = tmp_path / "home"
    monkeypatch.setenv("LEDGERLINK_HOME", str(home))
    monkeypatch.delenv("LEDGERLINK_TOKEN_KEY", raising=False)
    monkeypatch.delenv("LEDGERLINK_QBO_TIME_SCALE", raising=False)
    return home


def qbo_credentials(sandbox, **overrides) -> QboCredentials:
    env = sandbox.env
    values = {
        "client_id": env["LEDGERLINK_QBO_CLIENT_ID"],
        "client_secret": env["LEDGERLINK_QBO_CLIENT_SECRET"],
        "refresh_token": env["LEDGERLINK_QBO_REFRESH_TOKEN"],
        "realm_id": env["LEDGERLINK_QBO_REALM_ID"],
        "environment": env["LEDGERLINK_QBO_ENVIRONMENT"],
        "api_url": env["LEDGERLINK_QBO_API_URL"],
        "ca_bundle": env["LEDGERLINK_CA_BUNDLE"],
    }
    return QboCredentials(**{**values, **overrides})


def sf_credentials(sandbox, **overrides) -> SalesforceCredentials:
    env = sandbox.env
    values = {
        "login_url": env["LEDGERLINK_SF_LOGIN_URL"],
        "client_id": env["LEDGERLINK_SF_CLIENT_ID"],
        "client_secret": env["LEDGERLINK_SF_CLIENT_SECRET"],
        "ca_bundle": env["LEDGERLINK_CA_BUNDLE"],
    }
    return SalesforceCredentials(**{**values, **overrides})
