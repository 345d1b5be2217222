"""Fault injection, seen through real clients: 5xx answers, dropped connections, token expiry."""

from __future__ import annotations

import json

import pytest
import requests
from quickbooks import exceptions as qbx
from quickbooks.objects.customer import Customer

from sandbox.dataset import Dataset
from sandbox.faults import FaultConfig, FaultInjector
from tests.sandbox.conftest import qbo_small_company


def _faulty_qbo(sandbox_factory, config: FaultConfig):
    sandbox = sandbox_factory(dataset=Dataset(qbo=qbo_small_company()), faults={"qbo": config})
    sandbox.qbo.throttle.per_second = 0  # back-to-back requests: keep the throttle out of the picture
    return sandbox


def _get(sandbox, token, path="customer/1"):
    url = f"{sandbox.env['LEDGERLINK_QBO_API_URL']}/company/{sandbox.settings.realm_id}/{path}"
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                           verify=sandbox.ca_path, timeout=10)


def test_error_rate_gives_qbo_shaped_5xx_deterministically_by_seed(sandbox_factory, qbo_connect):
    runs = []
    for _ in range(2):
        sandbox = _faulty_qbo(sandbox_factory, FaultConfig(error_rate=0.5, seed=11))
        auth, qb = qbo_connect(sandbox)  # the OAuth endpoint is not affected
        statuses = []
        for _ in range(24):
            response = _get(sandbox, auth.access_token)
            statuses.append(response.status_code)
            if response.status_code == 503:
                assert response.headers["content-type"].startswith("text/html")
            elif response.status_code == 500:
                assert response.json()["Fault"]["Error"][0]["code"] == "10000"
            else:
                assert response.status_code == 200
        runs.append(statuses)
        assert sandbox.qbo.fault_injector.counts["errors"] == sum(s >= 500 for s in statuses)
    assert runs[0] == runs[1]
    assert {500, 503, 200} <= set(runs[0])


def test_error_rate_one_reaches_python_quickbooks_as_exceptions(sandbox_factory, qbo_connect):
    sandbox = _faulty_qbo(sandbox_factory, FaultConfig(error_rate=1.0, seed=1))
    _, qb = qbo_connect(sandbox)
    seen = set()
    for _ in range(8):
        with pytest.raises(qbx.QuickbooksException) as err:
            Customer.get(1, qb=qb)
        seen.add(type(err.value))
    # 503's HTML page is unreadable JSON (code 10000); 500's SystemFault is a SevereException.
    assert qbx.SevereException in seen and qbx.QuickbooksException in seen


def test_drop_rate_gives_connection_errors(sandbox_factory, qbo_connect):
    sandbox = _faulty_qbo(sandbox_factory, FaultConfig(drop_rate=1.0, seed=2))
    auth, _ = qbo_connect(sandbox)
    for _ in range(3):
        with pytest.raises(requests.exceptions.ConnectionError):
            _get(sandbox, auth.access_token)
    assert sandbox.qbo.fault_injector.counts["dropped"] == 3
    assert sandbox.qbo.request_log == []  # the API never saw them


def test_token_expiry_after_n_requests(sandbox_factory, qbo_connect):
    sandbox = _faulty_qbo(sandbox_factory, FaultConfig(expire_token_after=3, seed=0))
    auth, qb = qbo_connect(sandbox)
    for _ in range(3):
        assert Customer.get(1, qb=qb).DisplayName == "Acme Corp"
    with pytest.raises(qbx.AuthorizationException) as err:
        Customer.get(1, qb=qb)
    assert json.loads(err.value.detail)["fault"]["error"][0]["code"] == "3200"
    auth.refresh()
    qb.session.access_token = auth.access_token
    qb.session.token = {"access_token": auth.access_token, "refresh_token": auth.refresh_token}
    for _ in range(3):  # only once
        assert Customer.get(1, qb=qb).Id == "1"


def test_slow_answers_still_succeed(sandbox_factory, qbo_connect):
    sandbox = _faulty_qbo(sandbox_factory, FaultConfig(slow_rate=1.0, slow_seconds=0.05, seed=4))
    _, qb = qbo_connect(sandbox)
    assert Customer.get(1, qb=qb).Id == "1"
    assert sandbox.qbo.fault_injector.counts["slow"] == 1


def test_salesforce_shape_and_oauth_paths_are_left_alone(tmp_path):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from sandbox.server import _listen, _Service

    async def ok(request):
        return JSONResponse({"ok": True})

    inner = Starlette(routes=[Route("/services/data/v62.0/query", ok), Route("/services/oauth2/token", ok,
                                                                              methods=["POST"])])
    app = FaultInjector(inner, FaultConfig(error_rate=1.0, seed=5), service="salesforce")
    sock = _listen("127.0.0.1", 0)
    service = _Service(app, sock, None)
    service.start()
    try:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with requests.Session() as session:
            session.trust_env = False
            seen = set()
            for _ in range(6):
                response = session.get(base + "/services/data/v62.0/query")
                assert response.status_code in (500, 503)
                body = response.json()
                assert isinstance(body, list) and body[0]["message"]
                seen.add((response.status_code, body[0]["errorCode"]))
            assert seen <= {(503, "SERVER_UNAVAILABLE"), (500, "UNKNOWN_EXCEPTION")}
            assert (503, "SERVER_UNAVAILABLE") in seen
            assert session.post(base + "/services/oauth2/token").status_code == 200
    finally:
        service.stop()


def test_bad_config_fails_fast():
    with pytest.raises(ValueError, match="error_rate"):
        FaultConfig(error_rate=1.5)
