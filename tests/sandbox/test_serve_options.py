"""`ledgerlink sandbox serve` options that change the emulated limits, timeouts and faults.

Each test starts `python -m sandbox.cli serve` as a subprocess over the small `one_of_each`
scenario and drives the real clients against the `export` lines it prints.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession, SalesforceRefusedRequest

ROOT = Path(__file__).parents[2]
ONE_OF_EACH = Path(__file__).parent / "scenarios" / "one_of_each"
SERVE = [sys.executable, "-m", "sandbox.cli", "serve", "--scenario", str(ONE_OF_EACH),
         "--sf-port", "0", "--qbo-port", "0", "--oauth-port", "0"]


class Served:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.stderr = ""
        self.sessions: list[requests.Session] = []

    def session(self) -> requests.Session:
        s = requests.Session()
        s.verify = self.env["LEDGERLINK_CA_BUNDLE"]
        # REQUESTS_CA_BUNDLE in the environment would override `verify`.
        s.trust_env = False
        self.sessions.append(s)
        return s

    def salesforce(self) -> Salesforce:
        s = self.session()
        response = s.post(
            self.env["LEDGERLINK_SF_LOGIN_URL"] + "/services/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": self.env["LEDGERLINK_SF_CLIENT_ID"],
                  "client_secret": self.env["LEDGERLINK_SF_CLIENT_SECRET"]},
        )
        response.raise_for_status()
        token = response.json()
        return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=s)

    def quickbooks(self):
        from intuitlib.client import AuthClient
        from quickbooks import QuickBooks

        env = self.env
        auth = AuthClient(env["LEDGERLINK_QBO_CLIENT_ID"], env["LEDGERLINK_QBO_CLIENT_SECRET"],
                          "http://localhost/callback", environment=env["LEDGERLINK_QBO_ENVIRONMENT"])
        auth.refresh(refresh_token=env["LEDGERLINK_QBO_REFRESH_TOKEN"])
        qb = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token,
                        company_id=env["LEDGERLINK_QBO_REALM_ID"], minorversion=75)
        qb.api_url_v3 = env["LEDGERLINK_QBO_API_URL"]
        qb.session.verify = env["LEDGERLINK_CA_BUNDLE"]
        qb.session.trust_env = False
        self.sessions.extend([auth, qb.session])
        return auth, qb


@contextmanager
def serve(tmp_path: Path, *options: str):
    proc = subprocess.Popen(
        [*SERVE, "--state-dir", str(tmp_path / "state"), *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    served = None
    try:
        env = {}
        while "LEDGERLINK_CA_BUNDLE" not in env:
            line = proc.stdout.readline()
            assert line, f"serve exited early: {proc.stderr.read()}"
            key, _, value = line.removeprefix("export ").strip().partition("=")
            env[key] = value
        served = Served(env)
        yield served
    finally:
        if served is not None:
            for s in served.sessions:
                s.close()
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        if served is not None:
            served.stderr = stderr
    assert proc.returncode == 0, stderr


def test_a_spent_daily_api_limit_refuses_salesforce_calls_and_token_options_reach_qbo(tmp_path):
    with serve(tmp_path, "--sf-daily-api-limit", "3", "--qbo-access-token-ttl", "120",
               "--qbo-refresh-grace", "60") as served:
        sf = served.salesforce()
        for _ in range(3):
            assert sf.query("SELECT Id FROM Account")["totalSize"] > 0
        with pytest.raises(SalesforceRefusedRequest) as refused:
            sf.query("SELECT Id FROM Account")
        assert refused.value.status == 403
        assert refused.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"

        auth, _ = served.quickbooks()
        assert auth.expires_in == 120
    assert "Salesforce daily API limit 3 requests (default 15000)" in served.stderr
    assert "QBO access token lifetime 120s (default 3600s)" in served.stderr
    assert "QBO replaced refresh token grace 60s (default 86400s)" in served.stderr


def test_a_short_session_timeout_on_a_fast_clock_ends_the_salesforce_session(tmp_path):
    # 60 emulated seconds at 600x = 0.1 s of real time.
    with serve(tmp_path, "--sf-session-ttl", "60", "--time-scale", "600") as served:
        sf = served.salesforce()
        sf.query("SELECT Id FROM Account")
        time.sleep(0.5)
        with pytest.raises(SalesforceExpiredSession) as expired:
            sf.query("SELECT Id FROM Account")
        assert expired.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    assert "Salesforce session timeout 60s (default 7200s)" in served.stderr


def test_injected_faults_reach_the_clients_of_both_services(tmp_path):
    from quickbooks.exceptions import AuthorizationException
    from quickbooks.objects.invoice import Invoice

    with serve(tmp_path, "--sf-error-rate", "1", "--qbo-expire-tokens-after", "1") as served:
        sf = served.salesforce()  # the OAuth token endpoint is out of the faults' reach
        with pytest.raises(SalesforceError) as failed:
            sf.query("SELECT Id FROM Account")
        assert failed.value.status in (500, 503)
        assert failed.value.content[0]["errorCode"] in ("SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION")

        _, qb = served.quickbooks()
        assert float(Invoice.get(112, qb=qb).TotalAmt) == 100
        # After one request every access token is expired, as if Intuit had revoked it early.
        with pytest.raises(AuthorizationException):
            Invoice.get(112, qb=qb)
    assert "Salesforce faults: error rate 1, seed 0" in served.stderr
    assert "QBO faults: expire tokens after 1 requests, seed 0" in served.stderr


def test_without_options_no_setting_is_reported_changed(tmp_path):
    with serve(tmp_path) as served:
        assert served.salesforce().query("SELECT Id FROM Account")["totalSize"] > 0
    assert "Settings that differ from the real services: none" in served.stderr


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--sf-daily-api-limit", "0"], "--sf-daily-api-limit"),
        (["--sf-session-ttl", "0.5"], "--sf-session-ttl"),
        (["--qbo-access-token-ttl", "-5"], "--qbo-access-token-ttl"),
        (["--qbo-refresh-grace", "-1"], "--qbo-refresh-grace"),
        (["--qbo-error-rate", "1.5"], "--qbo-error-rate"),
        (["--sf-drop-rate", "abc"], "--sf-drop-rate"),
        (["--qbo-slow-seconds", "5"], "--qbo-slow-seconds"),
        (["--qbo-faults-on-oauth"], "--qbo-faults-on-oauth"),
    ],
)
def test_a_bad_option_value_stops_serve_before_it_starts_and_names_the_option(tmp_path, options, named):
    result = subprocess.run(
        [*SERVE, "--state-dir", str(tmp_path / "state"), *options],
        capture_output=True, text=True, cwd=ROOT, timeout=60, env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2
    assert named in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "state").exists()
