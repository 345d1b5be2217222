"""QboClient against the QBO emulator: tokens, refresh on 401, throttling, paging, CDC, batch."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError

from ledgerlink.clients.qbo import CdcWindowExceeded, QboClient, QboFault, escape_qbo
from ledgerlink.clients.ratelimit import QboLimits, QboRateLimiter
from ledgerlink.db import ConfigurationError
from sandbox.dataset import Dataset
from sandbox.generator import generate
from tests.clients.conftest import qbo_credentials

SCALE = 600.0  # a QBO "minute" lasts 0.1 s


def qbo_only() -> Dataset:
    """The tiny profile's QBO company, without a Salesforce org."""
    return Dataset(qbo=generate("tiny", seed=1).qbo)


@pytest.fixture
def make_client():
    """QboClient factory; clients are closed after the test (open connections slow the sandbox's stop)."""
    made: list[QboClient] = []

    def make(sandbox, db_url, **kwargs) -> QboClient:
        creds = kwargs.pop("credentials", None) or qbo_credentials(sandbox)
        kwargs.setdefault("time_scale", SCALE)
        client = QboClient(creds, database_url=db_url, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def count(sandbox, entity: str) -> int:
    return len(sandbox.dataset.qbo[entity])


def refresh_directly(sandbox, refresh_token: str) -> None:
    """A plain intuit-oauth refresh, bypassing our store (to see what Intuit thinks of a token)."""
    creds = qbo_credentials(sandbox)
    auth = AuthClient(creds.client_id, creds.client_secret, "http://localhost/callback", creds.environment)
    auth.refresh(refresh_token=refresh_token)


def stored_ciphertext(conn) -> bytes:
    return bytes(conn.execute("select refresh_token_enc from sync.oauth_token").fetchone()[0])


def test_connect_saves_the_rotated_token_encrypted(sandbox_factory, make_client, db_url, conn):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    seed = sandbox.env["LEDGERLINK_QBO_REFRESH_TOKEN"]
    token, version = client.tokens.stored()
    assert token != seed and token == client._auth.refresh_token
    assert version == 1
    raw = conn.execute("select t::text from sync.oauth_token t").fetchone()[0]
    assert token not in raw and seed not in raw
    assert token.encode() not in stored_ciphertext(conn)
    customers = client.query("SELECT * FROM Customer MAXRESULTS 5")["Customer"]
    assert len(customers) == 5
    assert client.counters.token_refreshes == 1


def test_a_restart_uses_the_stored_token_once_the_env_one_expired(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE, qbo_refresh_grace_s=0.0)
    make_client(sandbox, db_url).connect()
    seed = sandbox.env["LEDGERLINK_QBO_REFRESH_TOKEN"]
    with pytest.raises(AuthClientError):  # the environment's token has been rotated away
        refresh_directly(sandbox, seed)
    restarted = make_client(sandbox, db_url).connect()  # same environment, new process
    assert restarted.query("SELECT COUNT(*) FROM Customer")["totalCount"] == count(sandbox, "Customer")
    assert restarted.tokens.stored()[1] == 2


def test_a_reconnected_app_token_in_the_env_replaces_the_stored_one(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE, qbo_refresh_grace_s=0.0)
    make_client(sandbox, db_url).connect()
    reconnected = sandbox.qbo.tokens.issue_refresh_token(sandbox.settings.realm_id)
    client = make_client(sandbox, db_url, credentials=qbo_credentials(sandbox, refresh_token=reconnected))
    client.connect()
    assert client.tokens.stored()[0] != reconnected  # used, rotated and saved


def test_bad_client_secret_names_the_settings_not_the_values(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only())
    creds = qbo_credentials(sandbox, client_secret="wrong-secret-123")
    with pytest.raises(ConfigurationError) as info:
        make_client(sandbox, db_url, credentials=creds).connect()
    message = str(info.value)
    for name in ("LEDGERLINK_QBO_CLIENT_ID", "LEDGERLINK_QBO_CLIENT_SECRET", "LEDGERLINK_QBO_REFRESH_TOKEN",
                 "LEDGERLINK_QBO_REALM_ID", "reconnect"):
        assert name in message
    assert "wrong-secret-123" not in message and creds.refresh_token not in message


def test_revoked_refresh_token_says_reconnect(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only())
    creds = qbo_credentials(sandbox, refresh_token="RT1-made-up")
    with pytest.raises(ConfigurationError, match="invalid_grant.*reconnect the app") as info:
        make_client(sandbox, db_url, credentials=creds).connect()
    assert "RT1-made-up" not in str(info.value)


def test_expired_access_token_mid_run_is_refreshed(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    invoices = count(sandbox, "Invoice")
    assert client.query("SELECT COUNT(*) FROM Invoice")["totalCount"] == invoices
    sandbox.qbo.expire_access_tokens()
    assert client.query("SELECT COUNT(*) FROM Invoice")["totalCount"] == invoices
    assert client.counters.token_refreshes == 2
    assert client.tokens.stored()[1] == 2  # the second rotation was saved too
    statuses = [e["status"] for e in sandbox.qbo.request_log]
    assert statuses == [200, 401, 200]


def test_throttle_storm_is_waited_out(sandbox_factory, make_client, db_url):
    """More concurrent requests than QBO allows: 429s, waits, and in the end every answer."""
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    sandbox.qbo.latency_s = 0.2  # keeps requests in flight together
    # A limiter far looser than QBO's, so the server does the throttling.
    loose = QboRateLimiter(sandbox.settings.realm_id, QboLimits(
        requests_per_minute=100_000, requests_per_second=10_000, max_concurrent=40, time_scale=SCALE))
    client = make_client(sandbox, db_url, limiter=loose).connect()
    with ThreadPoolExecutor(16) as pool:
        counts = list(pool.map(lambda _: client.query("SELECT COUNT(*) FROM Customer")["totalCount"], range(16)))
    assert counts == [count(sandbox, "Customer")] * 16
    assert client.counters.throttled > 0
    assert client.counters.throttled == sandbox.qbo.throttled_count
    assert client.counters.retries >= client.counters.throttled


def test_the_shared_limiter_keeps_the_same_load_under_the_limits(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    sandbox.qbo.latency_s = 0.2
    clients = [make_client(sandbox, db_url) for _ in range(2)]  # two callers, one realm limiter
    clients[0].connect()
    clients[1].connect()
    assert clients[0].limiter is clients[1].limiter
    with ThreadPoolExecutor(16) as pool:
        counts = list(pool.map(
            lambda i: clients[i % 2].query("SELECT COUNT(*) FROM Customer")["totalCount"], range(16)))
    assert counts == [count(sandbox, "Customer")] * 16
    assert sandbox.qbo.throttled_count == 0


def test_query_pages_reads_every_row_once(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    total = count(sandbox, "Customer")
    size = next(n for n in range(6, 12) if total % n)  # several full pages and a short last one
    pages = list(client.query_pages("Customer", page_size=size))
    assert total > 2 * size
    assert [len(p) for p in pages] == [size] * (total // size) + [total % size]
    ids = [c["Id"] for page in pages for c in page]
    assert sorted(ids) == sorted(c["Id"] for c in sandbox.dataset.qbo["Customer"])
    name = sandbox.dataset.qbo["Customer"][0]["DisplayName"]
    (only,) = list(client.query_pages("Customer", where=f"DisplayName = '{escape_qbo(name)}'"))
    assert [c["DisplayName"] for c in only] == [name]


def test_cdc_returns_changes_and_deletions(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    since = datetime.now(UTC) - timedelta(seconds=5)
    created = client.request("POST", "customer", body={"DisplayName": "O'Neil & Daughters"})["Customer"]
    unpaid = [i for i in client.query("SELECT * FROM Invoice")["Invoice"] if not i.get("LinkedTxn")]
    invoice = unpaid[0]
    client.request("POST", "invoice", body={"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]},
                   params={"operation": "delete"})
    changes = client.cdc(["Customer", "Invoice"], since)
    assert [c["Id"] for c in changes["Customer"]] == [created["Id"]]
    assert [(c["Id"], c.get("status")) for c in changes["Invoice"]] == [(invoice["Id"], "Deleted")]


def test_cdc_older_than_30_days_asks_for_a_full_reload(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    sent = client.counters.requests
    with pytest.raises(CdcWindowExceeded, match="full"):
        client.cdc(["Invoice"], datetime.now(UTC) - timedelta(days=31))
    assert client.counters.requests == sent


def test_validation_fault_carries_code_and_is_not_retried(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    taken = sandbox.dataset.qbo["Customer"][0]["DisplayName"]
    sent = client.counters.requests
    with pytest.raises(QboFault) as info:
        client.request("POST", "customer", body={"DisplayName": taken}, request_id="dup-name-1")
    assert info.value.code == "6240" and info.value.status == 400
    assert "Duplicate Name" in info.value.message
    assert client.counters.requests == sent + 1


def test_batch_with_the_same_requestid_writes_once(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    items = [
        {"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Batch Co One"}},
        {"bId": "c2", "operation": "create", "Customer": {"DisplayName": "Batch Co Two"}},
    ]
    writes_before = sandbox.qbo.writes
    first = client.batch(items, request_id="batch-run1-0001")
    again = client.batch(items, request_id="batch-run1-0001")
    assert [r["bId"] for r in first] == ["c1", "c2"]
    assert [r["Customer"]["Id"] for r in again] == [r["Customer"]["Id"] for r in first]
    assert sandbox.qbo.writes - writes_before == 2
    found = client.query("SELECT * FROM Customer WHERE DisplayName LIKE 'Batch Co%'")["Customer"]
    assert len(found) == 2
    assert client.counters.batch_calls == 2


def test_batch_refuses_more_than_30_items_before_sending(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url)
    items = [{"bId": f"b{i}", "operation": "create", "Customer": {"DisplayName": f"C{i}"}} for i in range(31)]
    with pytest.raises(ValueError, match="30"):
        client.batch(items, request_id="too-many")
    assert client.counters.requests == 0


def test_concurrent_401s_lead_to_one_refresh(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url).connect()
    sandbox.qbo.expire_access_tokens()
    start = threading.Barrier(4)

    def run(_):
        start.wait(5)
        return client.query("SELECT COUNT(*) FROM Item")["totalCount"]

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(run, range(4))) == [count(sandbox, "Item")] * 4
    assert client.counters.token_refreshes == 2


def test_wrong_realm_names_the_realm_setting(sandbox_factory, make_client, db_url):
    sandbox = sandbox_factory(dataset=qbo_only(), time_scale=SCALE)
    client = make_client(sandbox, db_url, credentials=qbo_credentials(sandbox, realm_id="1234567890")).connect()
    with pytest.raises(ConfigurationError, match="LEDGERLINK_QBO_REALM_ID"):
        client.query("SELECT COUNT(*) FROM Customer")
    assert client.counters.requests == 1
