"""Run both emulators: Salesforce (HTTPS), QBO API (HTTPS) and QBO OAuth (HTTP).

Each service runs in its own uvicorn server on a background thread, so a pytest fixture, a
benchmark and `ledgerlink sandbox serve` start them the same way. TLS uses a throw-away CA
made by `trustme` at start: simple-salesforce always speaks HTTPS, and python-quickbooks'
OAuth2Session refuses plain HTTP. The QBO OAuth endpoints (discovery document and token
endpoint) are served on plain HTTP because intuit-oauth fetches the discovery document in
its constructor, before a caller can set a CA bundle; at Intuit they live on a separate
host (oauth.platform.intuit.com) too.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from sandbox.dataset import Dataset


@dataclass
class SandboxSettings:
    realm_id: str = "9341453172345678"
    sf_client_id: str = "sandbox-sf-client"
    sf_client_secret: str = "sandbox-sf-secret"
    qbo_client_id: str = "sandbox-qbo-client"
    qbo_client_secret: str = "sandbox-qbo-secret"
    # Salesforce session inactivity timeout (seconds); real default is 120 minutes.
    sf_session_ttl_s: float = 7200.0
    # Daily API request allocation (Developer Edition: 15,000).
    sf_daily_api_limit: int = 15000
    # QBO access tokens last one hour; old refresh tokens keep working for a grace period.
    qbo_access_token_ttl_s: float = 3600.0
    qbo_refresh_grace_s: float = 24 * 3600.0
    # 1.0 = real time. 60.0 makes a QBO throttle "minute" last one second.
    time_scale: float = 1.0
    # Per-service fault injection: {"salesforce": FaultConfig, "qbo": FaultConfig}
    faults: dict = field(default_factory=dict)
    seed: int = 0


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    return sock


class _Service:
    def __init__(self, app, sock: socket.socket, certfile: str | None):
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            ssl_certfile=certfile,
            timeout_keep_alive=30,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox service failed to start")
            time.sleep(0.01)

    def stop(self) -> None:
        # force_exit: don't wait for idle keep-alive connections to close on their own.
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(timeout=10)


class Sandbox:
    """Both emulators over one dataset. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        dataset: Dataset,
        state_dir: Path,
        settings: SandboxSettings | None = None,
        host: str = "127.0.0.1",
        ports: tuple[int, int, int] = (0, 0, 0),
    ):
        from sandbox.qbo.app import build_api_app, build_oauth_app
        from sandbox.qbo.company import QboCompany
        from sandbox.salesforce.app import build_app
        from sandbox.salesforce.org import SalesforceOrg

        self.settings = settings or SandboxSettings()
        self.dataset = dataset
        self.host = host
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.sf = SalesforceOrg(dataset.salesforce, self.settings)
        self.qbo = QboCompany(dataset.qbo, self.settings)
        self._sockets = [_listen(host, p) for p in ports]
        self.sf_url = f"https://{host}:{self._sockets[0].getsockname()[1]}"
        self.qbo_url = f"https://{host}:{self._sockets[1].getsockname()[1]}"
        self.oauth_url = f"http://{host}:{self._sockets[2].getsockname()[1]}"
        self.sf.instance_url = self.sf_url
        self.qbo.oauth_url = self.oauth_url
        certfile, self.ca_path = self._make_certs()
        self._services = [
            _Service(build_app(self.sf), self._sockets[0], certfile),
            _Service(build_api_app(self.qbo), self._sockets[1], certfile),
            _Service(build_oauth_app(self.qbo), self._sockets[2], None),
        ]

    def _make_certs(self) -> tuple[str, str]:
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert(self.host, "localhost")
        certfile = self.state_dir / "server.pem"
        ca_path = self.state_dir / "ca.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
        ca.cert_pem.write_to_path(str(ca_path))
        return str(certfile), str(ca_path)

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point LedgerLink (or any script) at this sandbox."""
        s = self.settings
        env = {
            "LEDGERLINK_SF_LOGIN_URL": self.sf_url,
            "LEDGERLINK_SF_CLIENT_ID": s.sf_client_id,
            "LEDGERLINK_SF_CLIENT_SECRET": s.sf_client_secret,
            "LEDGERLINK_QBO_ENVIRONMENT": f"{self.oauth_url}/.well-known/openid_configuration",
            "LEDGERLINK_QBO_API_URL": f"{self.qbo_url}/v3",
            "LEDGERLINK_QBO_CLIENT_ID": s.qbo_client_id,
            "LEDGERLINK_QBO_CLIENT_SECRET": s.qbo_client_secret,
            "LEDGERLINK_QBO_REFRESH_TOKEN": self.qbo.initial_refresh_token,
            "LEDGERLINK_QBO_REALM_ID": s.realm_id,
            "LEDGERLINK_CA_BUNDLE": self.ca_path,
        }
        if s.time_scale != 1.0:
            # The client's rate limiter and 429 waits must run on the sandbox's compressed clock.
            env["LEDGERLINK_QBO_TIME_SCALE"] = str(s.time_scale)
        return env

    def start(self) -> Sandbox:
        for service in self._services:
            service.start()
        return self

    def stop(self) -> None:
        for service in self._services:
            service.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
