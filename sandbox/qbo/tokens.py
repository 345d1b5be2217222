"""OAuth 2.0 tokens as Intuit issues them.

Access tokens live `qbo_access_token_ttl_s` (one hour). Every refresh returns a new refresh token;
the one it replaces keeps working for `qbo_refresh_grace_s` (Intuit: "previous refresh tokens
expire 24 hours after you receive a new one"), then answers `invalid_grant`.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

REFRESH_TOKEN_LIFETIME_S = 8726400  # x_refresh_token_expires_in: a rolling ~101 days


@dataclass
class _Refresh:
    realm: str
    issued_at: float
    replaced_at: float | None = None
    revoked: bool = False


@dataclass
class _Access:
    realm: str
    expires_at: float


class TokenStore:
    def __init__(self, access_ttl_s: float, refresh_grace_s: float, clock=time.monotonic):
        self.access_ttl_s = access_ttl_s
        self.refresh_grace_s = refresh_grace_s
        self.clock = clock
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._lock = threading.Lock()

    def issue_refresh_token(self, realm: str) -> str:
        token = "RT1-" + secrets.token_urlsafe(36)
        with self._lock:
            self._refresh[token] = _Refresh(realm, self.clock())
        return token

    def refresh(self, refresh_token: str) -> dict | None:
        """The token response for a refresh_token grant, or None for invalid_grant."""
        now = self.clock()
        with self._lock:
            state = self._refresh.get(refresh_token)
            if state is None or state.revoked:
                return None
            if now - state.issued_at > REFRESH_TOKEN_LIFETIME_S:
                return None
            if state.replaced_at is not None and now - state.replaced_at >= self.refresh_grace_s:
                return None
            if state.replaced_at is None:
                state.replaced_at = now
            new_refresh = "RT1-" + secrets.token_urlsafe(36)
            self._refresh[new_refresh] = _Refresh(state.realm, now)
            access = "eyJ" + secrets.token_urlsafe(96)
            self._access[access] = _Access(state.realm, now + self.access_ttl_s)
        return {
            "token_type": "bearer",
            "expires_in": int(self.access_ttl_s),
            "refresh_token": new_refresh,
            "x_refresh_token_expires_in": REFRESH_TOKEN_LIFETIME_S,
            "access_token": access,
        }

    def check_access(self, token: str) -> tuple[str | None, str]:
        """(realm, "") for a live token, else (None, why) with why in the 401 detail's words."""
        with self._lock:
            state = self._access.get(token)
            if state is None:
                return None, "Token invalid"
            if self.clock() >= state.expires_at:
                return None, f"Token expired: {token[:8]}..."
            return state.realm, ""

    def revoke(self, token: str) -> bool:
        with self._lock:
            if token in self._refresh:
                realm = self._refresh[token].realm
                for state in self._refresh.values():
                    if state.realm == realm:
                        state.revoked = True
                for key in [k for k, a in self._access.items() if a.realm == realm]:
                    del self._access[key]
                return True
            return self._access.pop(token, None) is not None

    def expire_access_tokens(self) -> None:
        with self._lock:
            for state in self._access.values():
                state.expires_at = min(state.expires_at, self.clock() - 1)
