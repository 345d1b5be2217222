"""OAuth token flows, session expiry, API limits, and malformed requests never hitting the bug path."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import simple_salesforce
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceRefusedRequest

from tests.sandbox.conftest import SF_USER_NAME

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _token_url(sandbox) -> str:
    return f"{sandbox.sf_url}/services/oauth2/token"


def _connect(sandbox, session, access_token):
    return simple_salesforce.Salesforce(
        instance_url=sandbox.sf_url, session_id=access_token, session=session, version="62.0"
    )


def test_client_credentials_with_basic_auth_or_body(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=3)
    s = sf_connect.session(sandbox)
    env = sandbox.env
    tok = sf_connect.token(sandbox, s)
    assert set(tok) == {"access_token", "instance_url", "id", "token_type", "scope", "issued_at", "signature"}
    assert tok["token_type"] == "Bearer" and tok["instance_url"] == sandbox.sf_url
    expected = base64.b64encode(
        hmac.new(env["LEDGERLINK_SF_CLIENT_SECRET"].encode(), (tok["id"] + tok["issued_at"]).encode(),
                 hashlib.sha256).digest()
    ).decode()
    assert tok["signature"] == expected
    body = s.post(_token_url(sandbox), data={
        "grant_type": "client_credentials",
        "client_id": env["LEDGERLINK_SF_CLIENT_ID"],
        "client_secret": env["LEDGERLINK_SF_CLIENT_SECRET"],
    })
    assert body.status_code == 200
    sf = _connect(sandbox, s, body.json()["access_token"])
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 3


def test_bad_credentials_and_grants_are_oauth_errors(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=1)
    s = sf_connect.session(sandbox)
    wrong = s.post(_token_url(sandbox), data={"grant_type": "client_credentials"},
                   auth=(sandbox.env["LEDGERLINK_SF_CLIENT_ID"], "wrong"))
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_client", "error_description": "invalid client credentials"}
    missing = s.post(_token_url(sandbox), data={"grant_type": "client_credentials"})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_client"
    grant = s.post(_token_url(sandbox), data={"grant_type": "authorization_code"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    assert "wrong" not in wrong.text
    # Token calls are not API calls.
    assert sandbox.sf.api_usage == 0


def _rsa_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _assertion(private, iss, sub=SF_USER_NAME, aud="https://login.salesforce.com", minutes=3):
    claims = {"iss": iss, "sub": sub, "aud": aud, "exp": datetime.now(UTC) + timedelta(minutes=minutes)}
    return jwt.encode(claims, private, algorithm="RS256")


def test_jwt_bearer_flow(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=2)
    s = sf_connect.session(sandbox)
    client_id = sandbox.env["LEDGERLINK_SF_CLIENT_ID"]
    private, public = _rsa_pem()
    other_private, _ = _rsa_pem()

    def post(assertion):
        return s.post(_token_url(sandbox), data={"grant_type": JWT_GRANT, "assertion": assertion})

    # No certificate configured: the claims are checked, the signature is not.
    ok = post(_assertion(other_private, client_id))
    assert ok.status_code == 200
    assert _connect(sandbox, s, ok.json()["access_token"]).query("SELECT Id FROM User")["totalSize"] == 2
    wrong_iss = post(_assertion(private, "someone-else"))
    assert wrong_iss.status_code == 400 and wrong_iss.json()["error"] == "invalid_client_id"
    unknown_user = post(_assertion(private, client_id, sub="nobody@example.com"))
    assert unknown_user.status_code == 400 and unknown_user.json()["error"] == "invalid_grant"
    expired = post(_assertion(private, client_id, minutes=-5))
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    bad_aud = post(_assertion(private, client_id, aud="https://evil.example.com"))
    assert bad_aud.status_code == 400 and bad_aud.json()["error"] == "invalid_grant"
    assert post("not-a-jwt").json()["error"] == "invalid_grant"

    # With the connected app's certificate configured, the signature must match it.
    sandbox.sf.jwt_public_key = public
    assert post(_assertion(private, client_id)).status_code == 200
    forged = post(_assertion(other_private, client_id))
    assert forged.status_code == 400 and forged.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_session_expires_after_inactivity_and_each_call_resets_it(sf_sandbox_with, sf_connect):
    # Wide margins: a busy machine may stall a call for a second or two without the session lapsing.
    sandbox = sf_sandbox_with(opportunities=1, sf_session_ttl_s=4.0)
    sf = sf_connect(sandbox)
    for _ in range(10):  # 5 s in total, but never 4 s idle
        time.sleep(0.5)
        sf.query("SELECT Id FROM Account")
    time.sleep(4.5)
    with pytest.raises(SalesforceExpiredSession) as exc:
        sf.query("SELECT Id FROM Account")
    assert exc.value.status == 401
    assert exc.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_expire_sessions_invalidates_every_token(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=1)
    sf = sf_connect(sandbox)
    sf.query("SELECT Id FROM Account")
    sandbox.sf.expire_sessions()
    with pytest.raises(SalesforceExpiredSession):
        list(sf.bulk2.Account.query("SELECT Id FROM Account", wait=0.1))
    assert sf_connect(sandbox).query("SELECT Id FROM Account")["totalSize"] == 3


def test_limits_and_api_usage_header(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=1, sf_daily_api_limit=6)
    sf = sf_connect(sandbox)
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 6
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 6, "Remaining": 4}
    assert limits["DailyBulkV2QueryJobs"]["Max"] == 10000
    assert "DailyBulkApiBatches" in limits
    # Bulk calls count too: create, a poll that sees InProgress, one that sees JobComplete, results.
    list(sf.bulk2.Account.query("SELECT Id FROM Account", wait=0.1))
    assert sandbox.sf.api_usage == 6
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM Account")
    assert exc.value.status == 403
    assert exc.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert sandbox.sf.api_usage == 6
    refused = [e for e in sandbox.sf.request_log if e["status"] == 403]
    assert refused and not any(e["api_call"] for e in refused)


def test_limit_info_header_on_every_rest_response(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=1)
    sf = sf_connect(sandbox)
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    base = f"{sandbox.sf_url}/services/data/v62.0"
    for url in (f"{base}/limits", f"{base}/query?q=SELECT+Id+FROM+Account", f"{base}/query?q=SELECT",
                f"{base}/jobs/query", f"{base}/nothing-here"):
        response = sf.session.get(url, headers=headers)
        assert response.headers["Sforce-Limit-Info"].startswith("api-usage="), url


MALFORMED = [
    ("GET", "/services/data/v62.0/query", None, None),
    ("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM", None, None),
    ("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account+WHERE+Name+%3D+'unterminated", None, None),
    ("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account+LIMIT+-1", None, None),
    ("GET", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account+WHERE+Name+%3D+%3Avar", None, None),
    ("GET", "/services/data/v62.0/query/garbage", None, None),
    ("GET", "/services/data/v99.0/limits", None, None),
    ("GET", "/services/data/vfoo/limits", None, None),
    ("PUT", "/services/data/v62.0/limits", None, None),
    ("POST", "/services/data/v62.0/sobjects/Account", "{not json", None),
    ("POST", "/services/data/v62.0/sobjects/Account", "[1, 2]", None),
    ("POST", "/services/data/v62.0/sobjects/Account", "", None),
    ("POST", "/services/data/v62.0/sobjects/Account", None, {"Name": {"nested": 1}}),
    ("POST", "/services/data/v62.0/sobjects/Account", None, {"NumberOfEmployees": True}),
    ("PATCH", "/services/data/v62.0/sobjects/Account/001%2F..%2Fetc", None, {"Name": "x"}),
    ("PATCH", "/services/data/v62.0/sobjects/Account/QBO_Customer_Id__c/", None, {"Name": "x"}),
    ("PATCH", "/services/data/v62.0/composite/sobjects", None, {"records": "nope"}),
    ("PATCH", "/services/data/v62.0/composite/sobjects", None, {"records": [1, 2]}),
    ("PATCH", "/services/data/v62.0/composite/sobjects", None, {"allOrNone": "yes", "records": []}),
    ("PATCH", "/services/data/v62.0/composite/sobjects/Account/Name", None, {"records": []}),
    ("POST", "/services/data/v62.0/jobs/query", None, {"operation": "delete", "query": "SELECT Id FROM Account"}),
    ("POST", "/services/data/v62.0/jobs/query", None, {"operation": "query"}),
    ("POST", "/services/data/v62.0/jobs/query", None, {"operation": "query", "query": "SELECT Id FROM Account",
                                                        "columnDelimiter": "SPACE"}),
    ("GET", "/services/data/v62.0/jobs/query/750000000000000AAA/results", None, None),
    ("POST", "/services/data/v62.0/jobs/ingest", None, {"operation": "upsert", "object": "Account"}),
    ("POST", "/services/data/v62.0/jobs/ingest", None, {"operation": "insert", "object": "Nope"}),
    ("POST", "/services/data/v62.0/jobs/ingest", None, {"operation": "insert", "object": ["Account"]}),
    ("DELETE", "/services/data/v62.0/sobjects/Account/001000000000000AAA", None, None),
]


def test_malformed_requests_get_salesforce_errors_not_the_bug_path(sf_sandbox_with, sf_connect):
    sandbox = sf_sandbox_with(opportunities=2, sf_daily_api_limit=1000)
    sf = sf_connect(sandbox)
    s = sf.session
    headers = {"Authorization": f"Bearer {sf.session_id}", "Content-Type": "application/json"}
    for method, path, raw, body in MALFORMED:
        response = s.request(method, sandbox.sf_url + path, headers=headers, data=raw, json=body)
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.text)
        errors = response.json()
        assert isinstance(errors, list) and errors[0]["errorCode"] and errors[0]["message"], (path, errors)
    # Ingest-job state errors: a second upload, closing twice, results of an open job.
    job = s.post(f"{sandbox.sf_url}/services/data/v62.0/jobs/ingest", headers=headers,
                 json={"operation": "insert", "object": "Account"}).json()
    batches = f"{sandbox.sf_url}/services/data/v62.0/jobs/ingest/{job['id']}/batches"
    csv_headers = {**headers, "Content-Type": "text/csv"}
    assert s.put(batches, headers=csv_headers, data=b"Name\nX\n").status_code == 201
    assert s.put(batches, headers=csv_headers, data=b"Name\nY\n").status_code == 409
    results = f"{sandbox.sf_url}/services/data/v62.0/jobs/ingest/{job['id']}/successfulResults"
    assert s.get(results, headers=headers).status_code == 400
    state = f"{sandbox.sf_url}/services/data/v62.0/jobs/ingest/{job['id']}"
    assert s.patch(state, headers=headers, json={"state": "JobComplete"}).status_code == 400
    assert s.patch(state, headers=headers, json={"state": "UploadComplete"}).status_code == 200
    assert s.patch(state, headers=headers, json={"state": "UploadComplete"}).status_code == 400
    assert sandbox.sf.internal_errors == []
    assert all(e["status"] < 500 for e in sandbox.sf.request_log)


def test_fault_injection_answers_like_salesforce(sf_sandbox_with, sf_connect):
    from simple_salesforce.exceptions import SalesforceGeneralError

    from sandbox.faults import FaultConfig

    sandbox = sf_sandbox_with(opportunities=1, faults={"salesforce": FaultConfig(error_rate=1.0, seed=3)})
    sf = sf_connect(sandbox)  # the token endpoint is not affected
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM Account")
    assert exc.value.status in (500, 503)
    assert exc.value.content[0]["errorCode"] in ("SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION")
    assert sandbox.sf.fault_injector.counts["errors"] == 1
    assert sandbox.sf.api_usage == 0  # the request never reached the org


def test_fault_injection_can_expire_sessions(sf_sandbox_with, sf_connect):
    from sandbox.faults import FaultConfig

    sandbox = sf_sandbox_with(opportunities=1, faults={"salesforce": FaultConfig(expire_token_after=1)})
    sf = sf_connect(sandbox)
    sf.query("SELECT Id FROM Account")
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
