"""`requests` sessions with a default timeout and a CA bundle the environment can't override."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

# (connect, read) seconds. Neither client library sets a timeout, so a hung socket would
# hang a nightly run forever; QBO says any request taking over 120 s times out anyway.
DEFAULT_TIMEOUT = (10.0, 150.0)


class TimeoutAdapter(HTTPAdapter):
    """An HTTPAdapter that applies a default timeout when the caller gave none."""

    def __init__(self, timeout=DEFAULT_TIMEOUT, **kwargs):
        self.timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, timeout=None, **kwargs):
        return super().send(request, timeout=timeout if timeout is not None else self.timeout, **kwargs)


def configure_session(session: requests.Session, ca_bundle: str | None, timeout=DEFAULT_TIMEOUT):
    """Mount timeout adapters and set `verify`.

    With a CA bundle, `trust_env` is switched off: otherwise a REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE in the environment silently replaces the session's `verify`
    (reference: salesforce-api.md section 8). Without one, the environment (proxies, CA
    settings) is honoured as usual.
    """
    adapter = TimeoutAdapter(timeout=timeout)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = ca_bundle or True
    if ca_bundle:
        session.trust_env = False
    return session


def new_session(ca_bundle: str | None, timeout=DEFAULT_TIMEOUT) -> requests.Session:
    return configure_session(requests.Session(), ca_bundle, timeout)
