"""Both clients through the sandbox's fault injector: 5xx answers and dropped connections."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError

from ledgerlink.clients.qbo import QboClient, QboUnavailable
from ledgerlink.clients.salesforce import SalesforceClient
from sandbox.dataset import Dataset
from sandbox.faults import FaultConfig
from sandbox.generator import generate
from tests.clients.conftest import qbo_credentials, sf_credentials

SCALE = 600.0


@pytest.fixture
def clients():
    made = []
    yield made
    for client in made:
        client.close()


def qbo(sandbox, db_url, clients) -> QboClient:
    client = QboClient(qbo_credentials(sandbox), database_url=db_url, time_scale=SCALE).connect()
    clients.append(client)
    return client


def sf(sandbox, clients) -> SalesforceClient:
    client = SalesforceClient(sf_credentials(sandbox), backoff_initial_s=0.01, poll_wait_s=0.05).connect()
    clients.append(client)
    return client


def test_qbo_reads_ride_out_5xx_and_dropped_connections(sandbox_factory, db_url, clients):
    dataset = Dataset(qbo=generate("tiny", seed=1).qbo)
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE,
                              faults={"qbo": FaultConfig(error_rate=0.2, drop_rate=0.1, seed=11)})
    client = qbo(sandbox, db_url, clients)
    pages = list(client.query_pages("Invoice", page_size=3))
    ids = [i["Id"] for page in pages for i in page]
    assert sorted(ids) == sorted(i["Id"] for i in dataset.qbo["Invoice"])
    assert client.counters.retries > 0
    assert client.counters.requests == len(pages) + (len(ids) % 3 == 0) + client.counters.retries


def test_qbo_write_without_requestid_is_not_resent_after_a_5xx(sandbox_factory, db_url, clients):
    sandbox = sandbox_factory(dataset=Dataset(qbo=generate("tiny", seed=1).qbo), time_scale=SCALE,
                              faults={"qbo": FaultConfig(error_rate=1.0, seed=1)})
    client = qbo(sandbox, db_url, clients)
    with pytest.raises(QboUnavailable) as info:
        client.request("POST", "customer", body={"DisplayName": "Once Only Ltd"})
    assert info.value.status in (500, 503)
    assert client.counters.requests == 1
    with pytest.raises(QboUnavailable):
        client.request("POST", "customer", body={"DisplayName": "Once Only Ltd"}, request_id="cust-once-1")
    assert client.counters.requests == 1 + client.max_attempts
    assert sandbox.qbo.writes == 0


def test_qbo_write_with_requestid_is_resent_until_it_lands_once(sandbox_factory, db_url, clients):
    sandbox = sandbox_factory(dataset=Dataset(qbo=generate("tiny", seed=1).qbo), time_scale=SCALE,
                              faults={"qbo": FaultConfig(error_rate=0.5, seed=3)})
    client = qbo(sandbox, db_url, clients)
    made = [client.request("POST", "customer", body={"DisplayName": f"Retry Co {i}"}, request_id=f"retry-co-{i}")
            for i in range(6)]
    assert client.counters.retries > 0
    assert sandbox.qbo.writes == 6
    assert len({m["Customer"]["Id"] for m in made}) == 6


def test_salesforce_bulk_download_rides_out_5xx_and_drops(sandbox_factory, clients):
    sandbox = sandbox_factory(profile="tiny",
                              faults={"salesforce": FaultConfig(error_rate=0.2, drop_rate=0.1, seed=5)})
    client = sf(sandbox, clients)
    pages = list(client.bulk_query_pages("SELECT Id FROM Opportunity", max_records=9))
    got = [r["Id"] for page in pages for r in csv.DictReader(io.StringIO(page))]
    assert sorted(got) == sorted(o["Id"] for o in sandbox.dataset.salesforce["Opportunity"])
    assert client.retries > 0


def test_salesforce_non_idempotent_call_is_not_retried(sandbox_factory, clients):
    sandbox = sandbox_factory(profile="tiny", faults={"salesforce": FaultConfig(error_rate=1.0, seed=1)})
    client = sf(sandbox, clients)
    before = sandbox.sf.records["Account"].copy()
    with pytest.raises(SalesforceGeneralError):
        client.call(lambda s: s.Account.create({"Name": "Not Twice Inc"}), idempotent=False)
    assert client.retries == 0
    with pytest.raises((SalesforceGeneralError, requests.ConnectionError)):
        client.call(lambda s: s.query("SELECT Id FROM Account"))
    assert client.retries == client.max_attempts - 1
    assert sandbox.sf.records["Account"] == before


def test_qbo_token_refresh_rides_out_oauth_server_errors(sandbox_factory, db_url, clients, caplog):
    sandbox = sandbox_factory(dataset=Dataset(qbo=generate("tiny", seed=1).qbo), time_scale=SCALE,
                              faults={"qbo": FaultConfig(error_rate=0.6, include_oauth=True, seed=0)})
    client = qbo(sandbox, db_url, clients)
    sandbox.qbo.expire_access_tokens()
    assert client.query("SELECT COUNT(*) FROM Term")["totalCount"] == 4
    assert client.counters.token_refreshes == 2
    stored, version = client.tokens.stored()
    assert version == 2 and stored == client._auth.refresh_token
    assert "token endpoint failed (HTTP 5" in caplog.text
