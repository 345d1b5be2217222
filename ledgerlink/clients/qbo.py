"""QuickBooks Online: intuit-oauth + python-quickbooks with what they leave to the caller.

python-quickbooks sends one request and raises on anything but success; it never refreshes a
token, retries, waits on a throttle or limits its rate (reference: quickbooks-online-api.md
sections 7 and 10). `QboClient` adds, around PQB's public `QuickBooks.make_request`:

* the refresh token kept encrypted in Postgres and saved the moment it rotates (`tokens`);
* a 401 -> refresh -> resend once;
* the realm's shared rate limiter (`ratelimit`);
* 429 / code 3001 -> wait as Intuit asks (60 s, or Retry-After) and resend;
* 5xx, network errors, timeouts and SystemFault 10000 -> backoff and resend, but only when
  resending is safe: reads, or writes carrying a `requestid`;
* any other Fault -> `QboFault` with the API's code and message, not retried.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from ledgerlink.clients.errors import CdcWindowExceeded, QboFault, QboThrottled, QboUnavailable
from ledgerlink.clients.http import configure_session
from ledgerlink.clients.ratelimit import QboLimits, QboRateLimiter, limiter_for, time_scale_from_env
from ledgerlink.clients.tokens import TokenStore
from ledgerlink.db import ConfigurationError

__all__ = [
    "CDC_MAX_AGE",
    "CDC_MAX_OBJECTS",
    "CdcWindowExceeded",
    "QboClient",
    "QboCredentials",
    "QboFault",
    "QboThrottled",
    "QboUnavailable",
    "escape_qbo",
]

log = logging.getLogger(__name__)

MINOR_VERSION = 75
CDC_MAX_AGE = timedelta(days=30)
# One CDC response holds at most 1,000 objects; a response that full may be cut short, so the
# caller should treat it as "too many changes" and reload in full.
CDC_MAX_OBJECTS = 1000
BATCH_MAX_ITEMS = 30
BATCH_REQUEST_ID_MAX = 36
REQUEST_ID_MAX = 50
_ENTITY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_ORDER_BY = re.compile(r"^[A-Za-z][A-Za-z0-9.]*( (ASC|DESC))?$", re.IGNORECASE)
_ENV_HINT = (
    "Check LEDGERLINK_QBO_CLIENT_ID, LEDGERLINK_QBO_CLIENT_SECRET, LEDGERLINK_QBO_REFRESH_TOKEN and "
    "LEDGERLINK_QBO_REALM_ID; if the refresh token was revoked or expired, reconnect the app to the "
    "QuickBooks company and set the new refresh token in LEDGERLINK_QBO_REFRESH_TOKEN."
)


@dataclass(frozen=True)
class QboCredentials:
    """An app's keys and the company (realm) it was connected to. `repr` hides the secrets."""

    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    realm_id: str
    environment: str = "production"  # production | sandbox | a discovery-document URL
    api_url: str | None = None  # overrides the API base, e.g. https://127.0.0.1:8443/v3
    ca_bundle: str | None = None


def escape_qbo(value: str) -> str:
    """`value` escaped for a quoted QBO query string literal: backslash-escape `\\` and `'`."""
    if not isinstance(value, str):
        raise TypeError(f"escape_qbo expects a str, got {type(value).__name__}")
    return value.replace("\\", "\\\\").replace("'", "\\'")


def qbo_datetime(value: datetime) -> str:
    """A QBO dateTime for queries and CDC, e.g. `2026-11-22T02:00:00+00:00` (aware datetimes only)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"QBO datetimes need a timezone; got naive {value.isoformat()}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _json_default(value):
    if isinstance(value, Decimal):
        # Money is 2-decimal; float's shortest repr round-trips such values exactly.
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} to QBO")


@dataclass
class QboCounters:
    requests: int = 0  # HTTP requests sent to the API (not OAuth)
    throttled: int = 0  # 429 / 3001 answers seen
    retries: int = 0  # resends for any reason
    token_refreshes: int = 0  # OAuth refreshes (each may rotate the refresh token)
    batch_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        return {
            "qbo_requests": self.requests,
            "qbo_throttled": self.throttled,
            "qbo_retries": self.retries,
            "qbo_token_refreshes": self.token_refreshes,
            "qbo_batch_calls": self.batch_calls,
        }


class _Unauthorized(Exception):
    """HTTP 401: the access token expired or was revoked."""


@dataclass
class _CallState:
    safe_to_resend: bool
    refreshed: bool = False
    throttles: int = 0
    failures: int = 0
    token_generation: int = 0


class QboClient:
    """One QBO company. `connect()` once, then `request()` and its conveniences.

    Safe to share between threads: requests go through the realm's limiter, and a 401 seen
    by several threads at once leads to one refresh.
    """

    def __init__(
        self,
        credentials: QboCredentials,
        database_url: str | None = None,
        *,
        throttle_wait_s: float = 60.0,
        max_throttle_retries: int = 10,
        max_attempts: int = 5,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        time_scale: float | None = None,
        limiter: QboRateLimiter | None = None,
        token_store: TokenStore | None = None,
    ):
        from ledgerlink import db

        self.credentials = credentials
        self.database_url = database_url or db.database_url()
        self.throttle_wait_s = throttle_wait_s
        self.max_throttle_retries = max_throttle_retries
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        scale = time_scale if time_scale is not None else time_scale_from_env()
        self.limiter = limiter or limiter_for(credentials.realm_id, QboLimits(time_scale=scale))
        self.tokens = token_store or TokenStore(self.database_url, "qbo", credentials.realm_id)
        self.counters = QboCounters()
        self._auth: AuthClient | None = None
        self._qb: QuickBooks | None = None
        self._token_lock = threading.Lock()
        self._token_generation = 0
        self._last = threading.local()

    # -- connection and tokens ------------------------------------------------------------

    def connect(self) -> QboClient:
        """Refresh the access token (saving the rotated refresh token) and build the PQB client."""
        creds = self.credentials
        with self._token_lock:
            self.close()  # a second connect() replaces the sessions
            self._qb = None
            self._auth = self._auth_client()
            self._refresh(seed=creds.refresh_token)
            qb = QuickBooks(
                auth_client=self._auth,
                refresh_token=self._auth.refresh_token,
                company_id=creds.realm_id,
                minorversion=MINOR_VERSION,
            )
            if creds.api_url:
                qb.api_url_v3 = creds.api_url.rstrip("/")
                qb.sandbox = False
            configure_session(qb.session, creds.ca_bundle)
            qb.session.hooks["response"].append(self._remember_response)
            self._qb = qb
        return self

    def close(self) -> None:
        """Close the HTTP connections (the API's and the OAuth server's)."""
        if self._qb is not None and self._qb.session is not None:
            self._qb.session.close()
        if self._auth is not None:
            self._auth.close()

    def __enter__(self) -> QboClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def qb(self) -> QuickBooks:
        """The python-quickbooks client (connects on first use)."""
        if self._qb is None:
            self.connect()
        return self._qb

    def _auth_client(self) -> AuthClient:
        creds = self.credentials
        try:
            # The constructor fetches the discovery document (environment may be its URL).
            auth = AuthClient(creds.client_id, creds.client_secret, "http://localhost/callback", creds.environment)
        except (requests.RequestException, AuthClientError, ValueError, KeyError) as exc:
            raise ConfigurationError(
                f"Cannot load Intuit's OAuth discovery document for environment {creds.environment!r} "
                f"({type(exc).__name__}). Check LEDGERLINK_QBO_ENVIRONMENT (production, sandbox, or a "
                "discovery-document URL)."
            ) from None
        configure_session(auth, creds.ca_bundle)
        return auth

    def _refresh(self, seed: str | None = None) -> None:
        """Refresh the access token under the token store's lock and save the new refresh token.

        Caller holds `_token_lock`.
        """
        # A refresh whose answer was lost may have rotated the token at Intuit; resending the
        # old one is still fine, as Intuit keeps the previous refresh token valid for a while.
        retrying = Retrying(
            retry=retry_if_exception(_oauth_transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_random_exponential(multiplier=self.limiter.scaled(self.backoff_initial_s),
                                         max=self.limiter.scaled(self.backoff_max_s)),
            before_sleep=self._before_refresh_retry,
            reraise=True,
        )
        with self.tokens.rotation(seed=seed) as rotation:
            try:
                retrying(self._auth.refresh, refresh_token=rotation.token)
            except AuthClientError as exc:
                raise self._refresh_error(exc, rotation.source) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise ConfigurationError(
                    f"Cannot reach Intuit's token endpoint {self._auth.token_endpoint} "
                    f"({type(exc).__name__}). Check LEDGERLINK_QBO_ENVIRONMENT and the network."
                ) from None
            rotation.save(self._auth.refresh_token)
        self.counters.add("token_refreshes")
        self._token_generation += 1
        if self._qb is not None:
            self._qb.refresh_token = self._auth.refresh_token
            self._qb.session.token = {
                "access_token": self._auth.access_token,
                "refresh_token": self._auth.refresh_token,
            }

    def _before_refresh_retry(self, rs: RetryCallState) -> None:
        self.counters.add("retries")
        exc = rs.outcome.exception()
        what = f"HTTP {exc.status_code}" if isinstance(exc, AuthClientError) else type(exc).__name__
        log.warning("Intuit's token endpoint failed (%s); retrying the refresh", what)

    def _refresh_error(self, exc: AuthClientError, source: str) -> ConfigurationError:
        try:
            error = json.loads(exc.content or b"{}").get("error", "")
        except (ValueError, AttributeError):
            error = ""
        if exc.status_code >= 500 or exc.status_code == 429:
            return ConfigurationError(
                f"Intuit's token endpoint kept failing (HTTP {exc.status_code}); the refresh token was "
                "not used up. Try again later (https://status.developer.intuit.com)."
            )
        which = "the stored refresh token" if source == "stored" else "the refresh token from the environment"
        what = f"{error}" if error else f"HTTP {exc.status_code}"
        return ConfigurationError(
            f"Intuit refused to refresh the QBO access token with {which} ({what}). {_ENV_HINT}"
        )

    def _refresh_after_401(self, seen_generation: int) -> None:
        with self._token_lock:
            if self._token_generation != seen_generation:
                return  # another thread refreshed after the same expiry
            log.info("QBO access token rejected (401); refreshing")
            self._refresh()

    def _remember_response(self, resp: requests.Response, *args, **kwargs) -> None:
        # PQB's make_request hides status and headers; a response hook (runs in the calling
        # thread) keeps them for classifying failures.
        self._last.response = resp

    # -- requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: dict | list | str | None = None,
        params: dict | None = None,
        request_id: str | None = None,
        *,
        idempotent: bool | None = None,
    ) -> dict:
        """Send `method /v3/company/<realm>/<path>` and return the parsed JSON.

        `body` is JSON-encoded (a str is sent as `application/text`, as queries are).
        `idempotent` defaults to True for GET and queries; writes are resent after a 5xx or
        network error only when they carry a `request_id`.
        """
        method = method.upper()
        path = path.lstrip("/")
        if request_id is not None and not 0 < len(request_id) <= REQUEST_ID_MAX:
            raise ValueError(f"requestid must be 1-{REQUEST_ID_MAX} characters, got {len(request_id)}")
        if idempotent is None:
            idempotent = method == "GET" or path == "query"
        state = _CallState(safe_to_resend=idempotent or request_id is not None)
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: self._should_retry(exc, state)),
            stop=lambda rs: False,  # every retryable kind carries its own bound (_should_retry)
            wait=lambda rs: self._wait(rs, state),
            before_sleep=lambda rs: self._before_retry(rs, state),
            reraise=True,
        )
        try:
            return retrying(self._send, method, path, body, params, request_id, state)
        except _Unauthorized:
            raise ConfigurationError(
                f"QBO rejected a freshly refreshed access token for company {self.credentials.realm_id} "
                f"(HTTP 401). {_ENV_HINT}"
            ) from None

    def _send(self, method, path, body, params, request_id, state: _CallState) -> dict:
        qb = self.qb
        url = f"{qb.api_url}/company/{self.credentials.realm_id}/{path}"
        if body is None:
            data, content_type = None, "application/json"
        elif isinstance(body, str):
            data, content_type = body, "application/text"
        else:
            data, content_type = json.dumps(body, default=_json_default), "application/json"
        is_batch = path == "batch"
        state.token_generation = self._token_generation
        self._last.response = None
        with self.limiter.slot(batch=is_batch):
            self.counters.add("requests")
            if is_batch:
                self.counters.add("batch_calls")
            try:
                return qb.make_request(
                    method, url, request_body=data, content_type=content_type,
                    params=dict(params or {}), request_id=request_id,
                )
            except QuickbooksException as exc:
                raise self._classify(exc) from None

    def _classify(self, exc: QuickbooksException) -> Exception:
        resp: requests.Response | None = getattr(self._last, "response", None)
        status = resp.status_code if resp is not None else None
        errors, fault_type = _fault_errors(resp)
        first = errors[0] if errors else {}
        code = str(first.get("code") or exc.error_code or "")
        fields = {
            "status": status,
            "fault_type": fault_type,
            "errors": errors,
        }
        message = first.get("Message") or exc.message or ""
        detail = first.get("Detail") or (exc.detail if isinstance(exc.detail, str) else "") or ""
        element = first.get("element") or ""
        if status == 429 or code == "3001":
            self.counters.add("throttled")
            return QboThrottled(_retry_after(resp), **fields)
        if status == 401:
            return _Unauthorized()
        if status == 403 and code == "3100":
            return ConfigurationError(
                f"QBO refused access to company {self.credentials.realm_id} (AuthorizationFailed 3100). "
                f"{_ENV_HINT}"
            )
        if (status is not None and status >= 500) or code == "10000" or fault_type == "SystemFault":
            return QboUnavailable(code or str(status), message or "QBO service error", detail, element, **fields)
        if resp is not None and not errors and status == 200:
            return QboFault(code or "10000", "QBO answered 200 with a body that is not JSON", **fields)
        return QboFault(code or str(status or ""), message, detail, element, **fields)

    def _should_retry(self, exc: BaseException, state: _CallState) -> bool:
        if isinstance(exc, QboThrottled):
            # Throttled requests were refused before running, so resending any of them is safe.
            return state.throttles < self.max_throttle_retries
        if isinstance(exc, _Unauthorized):
            return not state.refreshed
        if isinstance(exc, (QboUnavailable, requests.ConnectionError, requests.Timeout)):
            return state.safe_to_resend and state.failures + 1 < self.max_attempts
        return False

    def _wait(self, rs: RetryCallState, state: _CallState) -> float:
        exc = rs.outcome.exception()
        if isinstance(exc, QboThrottled):
            # Intuit: "wait 60 seconds before retrying". Retry-After, when sent, is the server's
            # own clock (the sandbox already compresses it); our default is scaled to match.
            if exc.retry_after is not None:
                return exc.retry_after
            return self.limiter.scaled(self.throttle_wait_s)
        if isinstance(exc, _Unauthorized):
            return 0.0
        backoff = min(self.backoff_max_s, self.backoff_initial_s * 2 ** state.failures)
        return self.limiter.scaled(backoff * (0.5 + random.random() / 2))

    def _before_retry(self, rs: RetryCallState, state: _CallState) -> None:
        exc = rs.outcome.exception()
        self.counters.add("retries")
        wait = rs.next_action.sleep if rs.next_action else 0.0
        if isinstance(exc, QboThrottled):
            state.throttles += 1
            log.warning("QBO throttled the request (429); waiting %.1fs (throttle %d)", wait, state.throttles)
        elif isinstance(exc, _Unauthorized):
            state.refreshed = True
            self._refresh_after_401(state.token_generation)
        else:
            state.failures += 1
            log.warning("QBO request failed (%s); retry %d in %.1fs", _describe(exc), state.failures, wait)

    # -- conveniences ---------------------------------------------------------------------

    def query(self, statement: str) -> dict:
        """Run a query statement; returns the `QueryResponse` object (entity key absent if none)."""
        return self.request("POST", "query", body=statement).get("QueryResponse", {})

    def query_pages(
        self, entity: str, where: str | None = None, page_size: int = 1000, order_by: str = "Id"
    ) -> Iterator[list[dict]]:
        """Every `entity` matching `where`, a page (≤ page_size, max 1000) at a time.

        `where` is raw query text: escape values in it with `escape_qbo`. Pages are taken with
        STARTPOSITION in a stable ORDERBY, so a page boundary never skips or repeats a row
        unless rows change during the read.
        """
        if not _ENTITY_NAME.match(entity):
            raise ValueError(f"not a QBO entity name: {entity!r}")
        if not _ORDER_BY.match(order_by):
            raise ValueError(f"not a QBO ORDERBY clause: {order_by!r}")
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000 (QBO's maximum)")
        start = 1
        pages = rows = 0
        while True:
            statement = f"SELECT * FROM {entity}"
            if where:
                statement += f" WHERE {where}"
            statement += f" ORDERBY {order_by} STARTPOSITION {start} MAXRESULTS {page_size}"
            page = self.query(statement).get(entity, [])
            if page:
                pages += 1
                rows += len(page)
                log.info("QBO %s: page %d with %d rows (%d so far)", entity, pages, len(page), rows)
                yield page
            if len(page) < page_size:
                return
            start += page_size

    def cdc(self, entities: list[str], changed_since: datetime, *, now: datetime | None = None) -> dict[str, list[dict]]:
        """Changes since `changed_since` per entity, deletions included (`status: "Deleted"`).

        QBO keeps 30 days of changes: an older `changed_since` raises CdcWindowExceeded so the
        caller can reload in full. A list of CDC_MAX_OBJECTS or more entries may be cut short.
        """
        for entity in entities:
            if not _ENTITY_NAME.match(entity):
                raise ValueError(f"not a QBO entity name: {entity!r}")
        if not entities:
            return {}
        now = now or datetime.now(UTC)
        if changed_since.tzinfo is None:
            raise ValueError("changed_since must be timezone-aware")
        if now - changed_since > CDC_MAX_AGE:
            raise CdcWindowExceeded(
                f"QBO CDC keeps {CDC_MAX_AGE.days} days of changes; {changed_since.isoformat()} is older. "
                "Reload these entities in full."
            )
        params = {"entities": ",".join(entities), "changedSince": qbo_datetime(changed_since)}
        try:
            result = self.request("GET", "cdc", params=params)
        except QboFault as fault:
            if fault.element == "changedSince" and "older" in fault.message.lower():
                # Our clock and QBO's disagree near the edge of the window: same remedy.
                raise CdcWindowExceeded(f"QBO refused CDC since {changed_since.isoformat()}: {fault.message}") from None
            raise
        changes: dict[str, list[dict]] = {entity: [] for entity in entities}
        for cdc_response in result.get("CDCResponse", []):
            for query_response in cdc_response.get("QueryResponse", []):
                for key, value in query_response.items():
                    if isinstance(value, list):
                        changes.setdefault(key, []).extend(value)
        return changes

    def batch(self, items: list[dict], request_id: str) -> list[dict]:
        """POST ≤30 BatchItemRequest items with a `requestid`; returns the BatchItemResponse list.

        Each item needs a `bId`. Per-item faults come back inside the responses (not raised).
        Sending the same `request_id` again returns the first answer instead of writing twice.
        """
        if not items:
            return []
        if len(items) > BATCH_MAX_ITEMS:
            raise ValueError(f"QBO batches hold at most {BATCH_MAX_ITEMS} items, got {len(items)}")
        if not request_id or len(request_id) > BATCH_REQUEST_ID_MAX:
            raise ValueError(f"batch requestid must be 1-{BATCH_REQUEST_ID_MAX} characters")
        missing = [i for i, item in enumerate(items) if not item.get("bId")]
        if missing:
            raise ValueError(f"batch items {missing} have no bId")
        result = self.request("POST", "batch", body={"BatchItemRequest": items}, request_id=request_id)
        return result.get("BatchItemResponse", [])

    def metadata(self) -> dict[str, int]:
        """Counters for Dagster metadata (no secrets)."""
        return self.counters.as_dict()


def _oauth_transient(exc: BaseException) -> bool:
    if isinstance(exc, AuthClientError):
        return exc.status_code >= 500 or exc.status_code == 429
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def _fault_errors(resp: requests.Response | None) -> tuple[list[dict], str]:
    if resp is None:
        return [], ""
    try:
        body = resp.json()
    except ValueError:
        return [], ""
    if not isinstance(body, dict):
        return [], ""
    fault = body.get("Fault") or body.get("fault") or {}
    if not isinstance(fault, dict):
        return [], ""
    errors = fault.get("Error") or fault.get("error") or []
    normalised = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            normalised.append({
                "code": str(error.get("code", "")),
                "Message": error.get("Message") or error.get("message") or "",
                "Detail": error.get("Detail") or error.get("detail") or "",
                "element": error.get("element") or "",
            })
    return normalised, str(fault.get("type", ""))


def _retry_after(resp: requests.Response | None) -> float | None:
    value = resp.headers.get("Retry-After") if resp is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, QboFault):
        return f"HTTP {exc.status} code {exc.code}"
    return type(exc).__name__ if exc else "unknown error"
