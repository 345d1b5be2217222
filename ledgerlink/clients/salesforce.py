"""Salesforce: OAuth 2.0 login, re-authentication, retries and Bulk API 2.0 query pages.

simple-salesforce is used in direct-session mode (`instance_url` + `session_id`): its own
login code appends `.salesforce.com` to login domains (so it can't reach a My Domain URL
or a local emulator) and its `bulk2` handler never refreshes a session. This client logs in
itself (client credentials, or JWT bearer when a username and private key are configured),
builds a fresh `simple_salesforce.Salesforce` after each login, and re-logs in when a call
answers 401 INVALID_SESSION_ID. See /work/shared/reference/salesforce-api.md sections 7-8.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)
from simple_salesforce.util import exception_handler
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_never,
    stop_after_attempt,
    wait_random_exponential,
)

from ledgerlink.clients.errors import SalesforceBudgetExhausted, SalesforceBulkQueryFailed
from ledgerlink.clients.http import new_session
from ledgerlink.clients.soql import escape_soql, escape_soql_like, soql_date, soql_datetime, soql_literal
from ledgerlink.db import ConfigurationError

__all__ = [
    "SalesforceBudgetExhausted",
    "SalesforceBulkQueryFailed",
    "SalesforceClient",
    "SalesforceCredentials",
    "escape_soql",
    "escape_soql_like",
    "soql_date",
    "soql_datetime",
    "soql_literal",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_ENV_HINT_CC = "LEDGERLINK_SF_LOGIN_URL, LEDGERLINK_SF_CLIENT_ID and LEDGERLINK_SF_CLIENT_SECRET"
_ENV_HINT_JWT = (
    "LEDGERLINK_SF_LOGIN_URL, LEDGERLINK_SF_CLIENT_ID, LEDGERLINK_SF_USERNAME and "
    "LEDGERLINK_SF_PRIVATE_KEY_FILE (the connected app must hold the matching certificate and be "
    "pre-authorized for that user)"
)


@dataclass(frozen=True)
class SalesforceCredentials:
    """Where and how to log in. `repr` never shows the secret."""

    login_url: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    username: str | None = None
    private_key_file: str | None = None
    api_version: str = "62.0"
    ca_bundle: str | None = None

    @property
    def uses_jwt(self) -> bool:
        return bool(self.username and self.private_key_file)


def jwt_audience(login_url: str) -> str:
    """The `aud` claim Salesforce expects for a JWT bearer assertion.

    Salesforce wants the authorization server's URL: https://login.salesforce.com for
    production orgs (My Domain included), https://test.salesforce.com for sandboxes, or an
    Experience Cloud site's own URL. Anything else (an emulator) gets its own origin.
    """
    parts = urlsplit(login_url)
    host = (parts.hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host == "login.salesforce.com" or host.endswith(".my.salesforce.com"):
        return "https://login.salesforce.com"
    return f"{parts.scheme}://{parts.netloc}"


def _error_code(exc: Exception) -> str | None:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0].get("errorCode")
    if isinstance(content, dict):
        return content.get("errorCode")
    return None


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, SalesforceGeneralError):
        return (exc.status or 0) >= 500
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


class SalesforceClient:
    """One Salesforce org. `connect()` once, then `call()` / `bulk_query_pages()`.

    Thread-safe: concurrent callers share one login; a 401 seen by several threads at once
    leads to a single re-login.
    """

    def __init__(
        self,
        credentials: SalesforceCredentials,
        *,
        max_attempts: int = 5,
        max_reauth: int = 2,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        poll_wait_s: float = 0.5,
        poll_max_wait_s: float = 5.0,
        job_timeout_s: float = 2 * 3600.0,
    ):
        self.credentials = credentials
        self.max_attempts = max_attempts
        self.max_reauth = max_reauth
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.poll_wait_s = poll_wait_s
        self.poll_max_wait_s = poll_max_wait_s
        self.job_timeout_s = job_timeout_s
        self._session = new_session(credentials.ca_bundle)
        self._session.hooks["response"].append(self._observe_response)
        self._lock = threading.Lock()
        self._sf: Salesforce | None = None
        self._generation = 0
        self._api_usage: tuple[int, int] | None = None
        self.logins = 0
        self.retries = 0

    # -- authentication -------------------------------------------------------------------

    def connect(self) -> SalesforceClient:
        """Log in now; bad credentials or an unreachable org raise ConfigurationError."""
        with self._lock:
            self._login()
        return self

    def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def sf(self) -> Salesforce:
        """The current `simple_salesforce.Salesforce` (logs in on first use)."""
        return self._current()[0]

    def _current(self) -> tuple[Salesforce, int]:
        with self._lock:
            if self._sf is None:
                self._login()
            return self._sf, self._generation

    def _reauthenticate(self, seen_generation: int) -> None:
        with self._lock:
            if self._generation != seen_generation:
                return  # another thread already logged in again after the same 401
            log.info("Salesforce session expired; logging in again")
            self._login()

    def _login(self) -> None:
        token = self._token_response()
        instance_url = token.get("instance_url") or self.credentials.login_url
        self._sf = Salesforce(
            instance_url=instance_url,
            session_id=token["access_token"],
            session=self._session,
            version=self.credentials.api_version,
        )
        self._generation += 1
        self.logins += 1

    def _hint(self) -> str:
        return _ENV_HINT_JWT if self.credentials.uses_jwt else _ENV_HINT_CC

    def _grant(self) -> tuple[dict, tuple[str, str] | None]:
        creds = self.credentials
        if creds.uses_jwt:
            return {"grant_type": JWT_GRANT, "assertion": self._jwt_assertion()}, None
        if creds.client_secret:
            # Basic auth rather than body parameters: the secret stays out of any logged body.
            return {"grant_type": "client_credentials"}, (creds.client_id, creds.client_secret)
        raise ConfigurationError(
            "Salesforce login is not configured: set LEDGERLINK_SF_CLIENT_SECRET (client credentials "
            "flow) or LEDGERLINK_SF_USERNAME and LEDGERLINK_SF_PRIVATE_KEY_FILE (JWT bearer flow)."
        )

    def _jwt_assertion(self) -> str:
        import jwt

        creds = self.credentials
        try:
            key = Path(creds.private_key_file).read_text()
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot read the Salesforce private key named by LEDGERLINK_SF_PRIVATE_KEY_FILE "
                f"({creds.private_key_file}): {exc.strerror}."
            ) from None
        claims = {
            "iss": creds.client_id,
            "sub": creds.username,
            "aud": jwt_audience(creds.login_url),
            "exp": int(time.time()) + 180,
        }
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            raise ConfigurationError(
                "The file named by LEDGERLINK_SF_PRIVATE_KEY_FILE is not a usable RSA private key (PEM)."
            ) from None

    def _token_response(self) -> dict:
        url = self.credentials.login_url.rstrip("/") + "/services/oauth2/token"
        data, auth = self._grant()

        def post() -> requests.Response:
            resp = self._session.post(url, data=data, auth=auth, headers={"Accept": "application/json"})
            if resp.status_code >= 500:
                resp.raise_for_status()
            return resp

        retrying = Retrying(
            retry=retry_if_exception(
                lambda e: isinstance(e, (requests.ConnectionError, requests.Timeout, requests.HTTPError))
            ),
            stop=stop_after_attempt(3),
            wait=wait_random_exponential(multiplier=self.backoff_initial_s, max=5.0),
            reraise=True,
        )
        try:
            resp = retrying(post)
        except requests.exceptions.SSLError:
            raise ConfigurationError(
                f"TLS verification failed for Salesforce at {self.credentials.login_url}. Check "
                "LEDGERLINK_SF_LOGIN_URL and, for a private CA, LEDGERLINK_CA_BUNDLE."
            ) from None
        except (requests.ConnectionError, requests.Timeout, requests.HTTPError) as exc:
            raise ConfigurationError(
                f"Cannot reach the Salesforce token endpoint at {url} ({type(exc).__name__}). "
                "Check LEDGERLINK_SF_LOGIN_URL (the org's My Domain URL)."
            ) from None
        if resp.status_code != 200:
            raise ConfigurationError(
                f"Salesforce refused the login at {self.credentials.login_url} "
                f"(HTTP {resp.status_code}{self._oauth_error(resp)}). Check {self._hint()}."
            )
        try:
            token = resp.json()
            token["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(
                f"{url} did not answer like a Salesforce token endpoint. Check LEDGERLINK_SF_LOGIN_URL."
            ) from None
        return token

    def _oauth_error(self, resp: requests.Response) -> str:
        """`: code - description` from an OAuth error body, with any credential value blanked."""
        try:
            body = resp.json()
            text = f"{body.get('error', '')} - {body.get('error_description', '')}".strip(" -")
        except (ValueError, AttributeError):
            return ""
        for secret in (self.credentials.client_secret,):
            if secret:
                text = text.replace(secret, "***")
        return f": {text}" if text else ""

    # -- calls ----------------------------------------------------------------------------

    def call(self, fn: Callable[[Salesforce], T], *, idempotent: bool = True) -> T:
        """Run `fn(sf)`: re-login on 401, back off and retry 5xx / network errors.

        `idempotent=False` turns off the 5xx/network retries (a create could otherwise run
        twice); the 401 re-login still applies since Salesforce never ran that request.
        REQUEST_LIMIT_EXCEEDED raises SalesforceBudgetExhausted without retrying.
        """
        retrying = Retrying(
            retry=retry_if_exception(_is_transient) if idempotent else retry_never,
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_random_exponential(multiplier=self.backoff_initial_s, max=self.backoff_max_s),
            before_sleep=self._before_retry,
            reraise=True,
        )
        return retrying(self._call_authenticated, fn)

    def _before_retry(self, state: RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "Salesforce call failed (%s); retry %d in %.1fs",
            _describe(exc), state.attempt_number, state.next_action.sleep if state.next_action else 0,
        )

    def _call_authenticated(self, fn: Callable[[Salesforce], T]) -> T:
        for attempt in range(self.max_reauth + 1):
            sf, generation = self._current()
            try:
                return fn(sf)
            except SalesforceExpiredSession:
                if attempt == self.max_reauth:
                    raise
                self._reauthenticate(generation)
            except SalesforceRefusedRequest as exc:
                if _error_code(exc) == "REQUEST_LIMIT_EXCEEDED":
                    raise SalesforceBudgetExhausted(
                        "Salesforce refused the call with REQUEST_LIMIT_EXCEEDED: the org's API request "
                        "allocation is used up. It is a rolling 24-hour window; run again later or ask "
                        "the Salesforce admin for more API capacity."
                    ) from None
                raise
        raise AssertionError("unreachable")

    def _raw(self, sf: Salesforce, method: str, url: str, *, headers: dict | None = None, **kwargs):
        """A request simple-salesforce has no helper for, with its error mapping."""
        resp = sf.session.request(method, url, headers={**sf.headers, **(headers or {})}, **kwargs)
        if resp.status_code >= 300:
            exception_handler(resp, name=urlsplit(url).path)
        return resp

    # -- Bulk API 2.0 query ---------------------------------------------------------------

    def bulk_query_pages(
        self,
        soql: str,
        query_all: bool = True,
        max_records: int = 50_000,
        *,
        poll_wait_s: float | None = None,
        decode: bool = True,
    ) -> Iterator[str] | Iterator[bytes]:
        """Run a Bulk API 2.0 query job and yield its results one CSV page at a time.

        Each page is a standalone CSV text with its own header row. A 401 while downloading
        logs in again and fetches the same locator again; the job is not restarted.
        `query_all=True` includes deleted and archived rows (`IsDeleted` tells them apart).
        `decode=False` yields the UTF-8 bytes as received (what `COPY` wants; saves a decode
        and an encode of every page).
        """
        job_id = self.call(lambda sf: self._create_query_job(sf, soql, query_all))
        log.info("Bulk query job %s created (%s)", job_id, "queryAll" if query_all else "query")
        self._wait_for_job(job_id, poll_wait_s if poll_wait_s is not None else self.poll_wait_s)
        locator: str | None = None
        pages = rows = 0
        while True:
            resp = self.call(lambda sf, loc=locator: self._results_page(sf, job_id, loc, max_records))
            count = int(resp.headers.get("Sforce-NumberOfRecords", "0") or 0)
            pages += 1
            rows += count
            log.info("Bulk query job %s: page %d with %d rows (%d so far)", job_id, pages, count, rows)
            # Bulk API files are UTF-8 by definition; without a charset in Content-Type,
            # requests would decode text/csv as Latin-1 and garble every accented name.
            yield resp.content.decode("utf-8") if decode else resp.content
            locator = resp.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                break
        log.info("Bulk query job %s finished: %d pages, %d rows", job_id, pages, rows)

    def _create_query_job(self, sf: Salesforce, soql: str, query_all: bool) -> str:
        body = {
            "operation": "queryAll" if query_all else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        return self._raw(sf, "POST", sf.bulk2_url + "query", json=body).json()["id"]

    def _job_info(self, sf: Salesforce, job_id: str) -> dict:
        return self._raw(sf, "GET", f"{sf.bulk2_url}query/{job_id}").json()

    def _wait_for_job(self, job_id: str, wait_s: float) -> None:
        deadline = time.monotonic() + self.job_timeout_s
        delay = wait_s
        while True:
            time.sleep(delay)
            info = self.call(lambda sf: self._job_info(sf, job_id))
            state = info.get("state")
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted"):
                raise SalesforceBulkQueryFailed(job_id, state, info.get("errorMessage") or "no message")
            if time.monotonic() > deadline:
                self._abort(job_id)
                raise SalesforceBulkQueryFailed(
                    job_id, "TimedOut", f"still {state} after {self.job_timeout_s:.0f}s; the job was aborted"
                )
            delay = min(delay * 1.5, self.poll_max_wait_s)

    def _abort(self, job_id: str) -> None:
        try:
            self.call(
                lambda sf: self._raw(sf, "PATCH", f"{sf.bulk2_url}query/{job_id}", json={"state": "Aborted"})
            )
        except Exception as exc:  # best effort: the job expires on its own after 7 days
            log.warning("Could not abort bulk query job %s: %s", job_id, _describe(exc))

    def _results_page(self, sf: Salesforce, job_id: str, locator: str | None, max_records: int):
        params: dict[str, Any] = {"maxRecords": max_records}
        if locator:
            params["locator"] = locator
        return self._raw(
            sf,
            "GET",
            f"{sf.bulk2_url}query/{job_id}/results",
            params=params,
            headers={"Accept": "text/csv; charset=UTF-8"},
        )

    # -- limits ---------------------------------------------------------------------------

    def remaining_api_requests(self) -> tuple[int, int]:
        """(remaining, max) of the org's rolling 24-hour API allocation, from `/limits`."""
        limits = self.call(lambda sf: sf.limits())
        daily = limits["DailyApiRequests"]
        return int(daily["Remaining"]), int(daily["Max"])

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, allocation) from the newest `Sforce-Limit-Info` header seen, if any."""
        return self._api_usage

    def _observe_response(self, resp: requests.Response, *args, **kwargs) -> None:
        header = resp.headers.get("Sforce-Limit-Info")
        if header:
            usage = Salesforce.parse_api_usage(header).get("api-usage")
            if usage is not None:
                self._api_usage = (usage.used, usage.total)

    def metadata(self) -> dict:
        """Counters for Dagster metadata (no secrets)."""
        used_total = self._api_usage
        return {
            "salesforce_logins": self.logins,
            "salesforce_retries": self.retries,
            "salesforce_api_usage": f"{used_total[0]}/{used_total[1]}" if used_total else None,
        }


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    status = getattr(exc, "status", None)
    code = _error_code(exc) if status else None
    parts = [type(exc).__name__]
    if status:
        parts.append(f"HTTP {status}")
    if code:
        parts.append(code)
    return " ".join(parts)
