"""Fault injection for both emulators: 5xx answers, slow answers, dropped connections, token expiry.

Usage (an ASGI middleware around an emulator's app):

    from sandbox.faults import FaultConfig, FaultInjector

    app = FaultInjector(build_app(org), FaultConfig(error_rate=0.05, drop_rate=0.01, seed=7),
                        service="salesforce", on_expire=org.expire_sessions)

or, through the sandbox, `SandboxSettings(faults={"qbo": FaultConfig(...), "salesforce": FaultConfig(...)})`
(the QBO emulator wraps its API app itself when `faults["qbo"]` is set).

* Deterministic: one `random.Random(seed)` per injector, four draws per request in a fixed order,
  so the n-th request meets the same fate on every run with the same seed.
* Only API paths are affected (QBO `/v3/...`; Salesforce `/services/...` except the OAuth token
  endpoint `/services/oauth2/...`), unless `applies_to` says otherwise.
* Error bodies are in the service's own shape: QBO answers 503 with an HTML page from its gateway
  or 500 with a SystemFault 10000; Salesforce answers `[{"errorCode": "SERVER_UNAVAILABLE", ...}]`.
* A dropped request gets no response at all: the connection is aborted, so a `requests` client
  sees `requests.exceptions.ConnectionError`.
* `expire_token_after=N`: after N affected requests, `on_expire()` is called once (the emulator
  then answers the next request with its expired-token 401).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class FaultConfig:
    error_rate: float = 0.0  # share of requests answered 500 or 503
    slow_rate: float = 0.0  # share of requests delayed by slow_seconds
    slow_seconds: float = 2.0
    drop_rate: float = 0.0  # share of requests whose connection is closed without a response
    expire_token_after: int | None = None  # expire tokens once, after this many requests
    seed: int = 0
    include_oauth: bool = False  # also inject into the OAuth token endpoint

    def __post_init__(self) -> None:
        for name in ("error_rate", "slow_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultConfig.{name} must be between 0 and 1, got {value}")
        if self.slow_seconds < 0:
            raise ValueError("FaultConfig.slow_seconds must be >= 0")
        if self.expire_token_after is not None and self.expire_token_after < 0:
            raise ValueError("FaultConfig.expire_token_after must be >= 0 or None")


def _default_scope(service: str) -> Callable[[str], bool]:
    if service == "qbo":
        return lambda path: path.startswith("/v3/")
    if service == "salesforce":
        return lambda path: path.startswith("/services/") and not path.startswith("/services/oauth2/")
    return lambda path: True


def _error_response(service: str, status: int) -> tuple[bytes, bytes, dict]:
    """(content type, body, extra headers) for an injected 500/503 in the service's own shape."""
    if service == "salesforce":
        code = "SERVER_UNAVAILABLE" if status == 503 else "UNKNOWN_EXCEPTION"
        message = (
            "Server temporarily unavailable. Please try again later."
            if status == 503
            else f"An unexpected error occurred. Please include this ErrorId if you contact support: "
            f"{uuid.uuid4().int % 10**10}-{uuid.uuid4().int % 10**5} ({uuid.uuid4().int % 10**10})"
        )
        body = json.dumps([{"errorCode": code, "message": message}]).encode()
        return b"application/json;charset=UTF-8", body, {}
    if status == 503:
        body = (
            b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
            b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
        )
        return b"text/html", body, {"intuit_tid": str(uuid.uuid4())}
    from sandbox.qbo.errors import system_fault

    body = json.dumps(system_fault("An unexpected error occurred while processing your request.").body()).encode()
    return b"application/json;charset=UTF-8", body, {"intuit_tid": str(uuid.uuid4())}


class FaultInjector:
    """ASGI middleware: see the module docstring. `counts` says what was injected so far."""

    def __init__(
        self,
        app,
        config: FaultConfig,
        service: str,
        on_expire: Callable[[], None] | None = None,
        applies_to: Callable[[str], bool] | None = None,
    ):
        self.app = app
        self.config = config
        self.service = service
        self.on_expire = on_expire
        self.applies_to = applies_to or _default_scope(service)
        self.rng = random.Random(config.seed)
        self.counts = {"requests": 0, "errors": 0, "slow": 0, "dropped": 0, "expired": 0}
        self._expired = False
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.applies_to(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        cfg = self.config
        with self._lock:
            self.counts["requests"] += 1
            seen = self.counts["requests"]
            drop, fail, slow, which = (self.rng.random() for _ in range(4))
            expire_now = (
                cfg.expire_token_after is not None and not self._expired and seen > cfg.expire_token_after
            )
            if expire_now:
                self._expired = True
                self.counts["expired"] += 1
        if expire_now and self.on_expire is not None:
            self.on_expire()
        if drop < cfg.drop_rate:
            with self._lock:
                self.counts["dropped"] += 1
            if not await self._drop(send):
                # No transport to abort: a non-None return makes uvicorn close the connection.
                return "dropped"
            return
        if fail < cfg.error_rate:
            with self._lock:
                self.counts["errors"] += 1
            status = 503 if which < 0.5 else 500
            content_type, body, headers = _error_response(self.service, status)
            raw_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
            raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
            await send({"type": "http.response.start", "status": status, "headers": raw_headers})
            await send({"type": "http.response.body", "body": body})
            return
        if slow < cfg.slow_rate:
            with self._lock:
                self.counts["slow"] += 1
            await asyncio.sleep(cfg.slow_seconds)
        await self.app(scope, receive, send)

    @staticmethod
    async def _drop(send) -> bool:
        """Close the connection without answering; False if the transport is out of reach.

        ASGI has no "abort" message, so this reaches uvicorn's protocol object through `send`
        (a bound method of its request cycle) and aborts the transport.
        """
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if transport is None:
            return False
        transport.abort()
        # Let connection_lost run so the server knows not to answer on a dead transport.
        for _ in range(3):
            await asyncio.sleep(0)
        return True
