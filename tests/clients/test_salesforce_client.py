"""SalesforceClient against the Salesforce emulator: login, re-login, Bulk 2.0 pages, API budget."""

from __future__ import annotations

import csv
import io

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ledgerlink.clients.salesforce import (
    SalesforceBudgetExhausted,
    SalesforceClient,
    escape_soql,
    soql_datetime,
)
from ledgerlink.db import ConfigurationError
from tests.clients.conftest import sf_credentials


@pytest.fixture
def make_client():
    made: list[SalesforceClient] = []

    def make(sandbox, **kwargs) -> SalesforceClient:
        creds = kwargs.pop("credentials", None) or sf_credentials(sandbox)
        kwargs.setdefault("backoff_initial_s", 0.01)
        kwargs.setdefault("poll_wait_s", 0.05)
        client = SalesforceClient(creds, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def rows(pages: list[str]) -> list[dict]:
    return [row for page in pages for row in csv.DictReader(io.StringIO(page))]


def test_client_credentials_login_and_a_query(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    client = make_client(sandbox).connect()
    result = client.call(lambda sf: sf.query("SELECT Id FROM Account"))
    live = [a for a in sandbox.dataset.salesforce["Account"] if not a.get("IsDeleted")]
    assert result["totalSize"] == len(live)
    used, allocation = client.api_usage
    assert allocation == 15000 and used >= 1


def test_bad_secret_names_the_settings_and_hides_the_secret(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    creds = sf_credentials(sandbox, client_secret="not-the-secret-42")
    with pytest.raises(ConfigurationError) as info:
        make_client(sandbox, credentials=creds).connect()
    message = str(info.value)
    for name in ("LEDGERLINK_SF_LOGIN_URL", "LEDGERLINK_SF_CLIENT_ID", "LEDGERLINK_SF_CLIENT_SECRET"):
        assert name in message
    assert "invalid_client" in message
    assert "not-the-secret-42" not in message and sandbox.settings.sf_client_secret not in message
    assert "not-the-secret-42" not in repr(creds)


def test_unreachable_org_is_a_configuration_error(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    creds = sf_credentials(sandbox, login_url="https://127.0.0.1:9")  # nothing listens on port 9
    with pytest.raises(ConfigurationError, match="LEDGERLINK_SF_LOGIN_URL"):
        make_client(sandbox, credentials=creds).connect()


def test_expired_session_logs_in_again(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    client = make_client(sandbox).connect()
    query = "SELECT COUNT() FROM Opportunity"
    before = client.call(lambda sf: sf.query(query))["totalSize"]
    sandbox.sf.expire_sessions()
    assert client.call(lambda sf: sf.query(query))["totalSize"] == before
    assert client.logins == 2


def test_bulk_query_streams_standalone_csv_pages(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    client = make_client(sandbox).connect()
    pages = list(client.bulk_query_pages("SELECT Id, Name, IsDeleted FROM Account", max_records=10))
    expected = sandbox.dataset.salesforce["Account"]
    assert len(pages) == -(-len(expected) // 10)
    assert all(page.splitlines()[0] == '"Id","Name","IsDeleted"' for page in pages)
    got = rows(pages)
    assert sorted(r["Id"] for r in got) == sorted(a["Id"] for a in expected)  # queryAll: deleted ones too
    live = list(client.bulk_query_pages("SELECT Id FROM Account", query_all=False, max_records=10))
    assert len(rows(live)) == len([a for a in expected if not a.get("IsDeleted")])


def test_session_expiring_mid_download_resumes_the_same_job(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    client = make_client(sandbox).connect()
    pages = client.bulk_query_pages("SELECT Id FROM Opportunity", max_records=7)
    first = next(pages)
    sandbox.sf.expire_sessions()
    rest = list(pages)
    got = [r["Id"] for r in rows([first, *rest])]
    assert sorted(got) == sorted(o["Id"] for o in sandbox.dataset.salesforce["Opportunity"])
    assert len(got) == len(set(got))
    assert sandbox.sf.bulk_query_jobs_used == 1  # resumed from the locator, not restarted
    assert client.logins == 2


def test_spent_api_budget_raises_without_retrying(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny", sf_daily_api_limit=3)
    client = make_client(sandbox).connect()
    remaining, allocation = client.remaining_api_requests()
    assert (remaining, allocation) == (2, 3)  # the /limits call itself counted
    client.call(lambda sf: sf.query("SELECT Id FROM User"))
    client.call(lambda sf: sf.query("SELECT Id FROM User"))
    with pytest.raises(SalesforceBudgetExhausted, match="REQUEST_LIMIT_EXCEEDED"):
        client.call(lambda sf: sf.query("SELECT Id FROM User"))
    assert client.retries == 0


def test_escaped_values_find_exactly_the_hostile_name(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    client = make_client(sandbox).connect()
    hostile = "O'Brien \\ Sons' OR Name != '"
    created = client.call(lambda sf: sf.Account.create({"Name": hostile}), idempotent=False)
    found = client.call(lambda sf: sf.query(f"SELECT Id, Name FROM Account WHERE Name = '{escape_soql(hostile)}'"))
    assert [(r["Id"], r["Name"]) for r in found["records"]] == [(created["id"], hostile)]


def test_incremental_filter_with_a_datetime_literal(sandbox_factory, make_client):
    sandbox = sandbox_factory(profile="tiny")
    client = make_client(sandbox).connect()
    accounts = sandbox.dataset.salesforce["Account"]
    cutoff = sorted(a["SystemModstamp"] for a in accounts)[len(accounts) // 2]
    soql = f"SELECT Id FROM Account WHERE SystemModstamp >= {soql_datetime(cutoff)}"
    got = {r["Id"] for r in rows(list(client.bulk_query_pages(soql)))}
    floor = cutoff.replace(microsecond=0)
    assert got == {a["Id"] for a in accounts if a["SystemModstamp"] >= floor}


def test_jwt_bearer_login(sandbox_factory, make_client, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    key_file = tmp_path / "sf.key"
    key_file.write_bytes(pem)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    sandbox = sandbox_factory(profile="tiny")
    sandbox.sf.jwt_public_key = public  # the certificate "uploaded to the connected app"
    user = next(u for u in sandbox.dataset.salesforce["User"] if u.get("IsActive", True))
    creds = sf_credentials(sandbox, client_secret=None, username=user["Username"], private_key_file=str(key_file))
    client = make_client(sandbox, credentials=creds).connect()
    assert client.call(lambda sf: sf.query("SELECT COUNT() FROM Account"))["totalSize"] >= 1

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    with pytest.raises(ConfigurationError, match="LEDGERLINK_SF_PRIVATE_KEY_FILE"):
        make_client(sandbox, credentials=creds).connect()
