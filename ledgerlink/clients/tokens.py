"""OAuth refresh tokens kept encrypted in `sync.oauth_token`, rotated one process at a time.

QBO hands out a new refresh token on (almost) every refresh, and the old one stops working a
while later; a token that is not saved the moment it arrives is lost, and the app has to be
reconnected by hand. So every refresh runs inside `TokenStore.rotation()`: a transaction
holding an advisory lock for that service and account, which reads the newest stored token,
lets the caller refresh with it, saves the new one and commits at once. Two processes
therefore never refresh with the same old token.

The environment's token (`LEDGERLINK_QBO_REFRESH_TOKEN`) only seeds the store: once rotated
it is stale. It wins again only if it differs from the one the row was seeded with, which
means an operator reconnected the app; an HMAC of the seed is kept to notice that.

Encryption: Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`, with the key from
`LEDGERLINK_TOKEN_KEY` or else `$LEDGERLINK_HOME/token.key`, created mode 0600 on first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ledgerlink import db, paths
from ledgerlink.db import ConfigurationError

log = logging.getLogger(__name__)

TOKEN_KEY_ENV = "LEDGERLINK_TOKEN_KEY"
KEY_FILE_NAME = "token.key"
_GENERATE_HINT = (
    "generate one with: python -c \"from cryptography.fernet import Fernet; "
    'print(Fernet.generate_key().decode())"'
)


def key_file_path() -> Path:
    return paths.home() / KEY_FILE_NAME


def _validated(key: bytes, source: str) -> bytes:
    key = key.strip()
    try:
        Fernet(key)
    except (ValueError, TypeError):
        raise ConfigurationError(
            f"{source} does not hold a valid Fernet key (32 url-safe base64-encoded bytes); {_GENERATE_HINT}"
        ) from None
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key to `path` atomically; if another process won the race, keep theirs."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails if the file exists: never overwrite a key in use
            log.info("Created the token encryption key %s (mode 0600); back it up with the database", path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def load_key() -> bytes:
    """The Fernet key: `LEDGERLINK_TOKEN_KEY`, else the key file (created on first use)."""
    env = os.environ.get(TOKEN_KEY_ENV)
    if env:
        return _validated(env.encode(), TOKEN_KEY_ENV)
    path = key_file_path()
    if not path.exists():
        _create_key_file(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("Token key file %s is readable by other users (mode %o); run: chmod 600 %s", path, mode, path)
    return _validated(path.read_bytes(), f"The token key file {path}")


class TokenCipher:
    """Encrypts tokens and fingerprints seeds with one key."""

    def __init__(self, key: bytes | None = None):
        key = key or load_key()
        self._fernet = Fernet(key)
        # A separate MAC key for seed fingerprints, derived so the two uses never share a key.
        raw = base64.urlsafe_b64decode(key)
        self._mac_key = hmac.new(raw, b"ledgerlink oauth seed fingerprint", hashlib.sha256).digest()

    def encrypt(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode("utf-8")
        except InvalidToken:
            raise ConfigurationError(
                f"The stored refresh token cannot be decrypted with the current key ({TOKEN_KEY_ENV} or "
                f"{key_file_path()}). Restore the key that encrypted it, or reconnect the app and set the "
                "new refresh token in the environment."
            ) from None

    def fingerprint(self, token: str) -> str:
        return hmac.new(self._mac_key, token.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class Rotation:
    """One refresh in progress: the token to refresh with, and where the new one goes."""

    token: str
    version: int  # the stored version the token came from (0: not stored yet)
    source: str  # "stored" | "environment"
    new_token: str | None = None

    def save(self, new_token: str) -> None:
        """Record the rotated token; `TokenStore.rotation` writes it and commits on exit."""
        if not new_token:
            raise ValueError("refusing to store an empty refresh token")
        self.new_token = new_token


class TokenStore:
    """Refresh tokens of one service account (QBO: one realm) in `sync.oauth_token`."""

    def __init__(self, database_url: str, service: str, account: str, cipher: TokenCipher | None = None):
        self.database_url = database_url
        self.service = service
        self.account = account
        self.cipher = cipher or TokenCipher()
        self.version = 0  # the newest version this process wrote or read

    def _lock_key(self) -> str:
        return f"ledgerlink.oauth_token:{self.service}:{self.account}"

    def stored(self) -> tuple[str, int] | None:
        """(token, version) currently stored, or None. No lock: for inspection only."""
        with db.connect(self.database_url) as conn:
            row = conn.execute(
                "select refresh_token_enc, version from sync.oauth_token where service = %s and account = %s",
                (self.service, self.account),
            ).fetchone()
        return (self.cipher.decrypt(row[0]), row[1]) if row else None

    @contextmanager
    def rotation(self, seed: str | None = None) -> Iterator[Rotation]:
        """Lock, pick the token to refresh with, let the caller refresh, save and commit.

        `seed` is the environment's token, passed at start-up only: it is used when nothing
        is stored yet, or when it changed since the stored token was seeded. If the block
        raises, nothing is written and the lock is released.
        """
        with db.connect(self.database_url) as conn, conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (self._lock_key(),))
            row = conn.execute(
                "select refresh_token_enc, seed_hash, version from sync.oauth_token"
                " where service = %s and account = %s",
                (self.service, self.account),
            ).fetchone()
            seed_hash = self.cipher.fingerprint(seed) if seed else None
            if row is None:
                if not seed:
                    raise ConfigurationError(
                        f"No {self.service} refresh token is stored for account {self.account} and none was "
                        "given in the environment. Connect the app and set its refresh token."
                    )
                rotation = Rotation(seed, 0, "environment")
            elif seed_hash is not None and not hmac.compare_digest(seed_hash, row[1]):
                log.info(
                    "The %s refresh token in the environment changed since the stored one was seeded "
                    "(the app was reconnected?): using it", self.service,
                )
                rotation = Rotation(seed, row[2], "environment")
            else:
                rotation = Rotation(self.cipher.decrypt(row[0]), row[2], "stored")
            yield rotation
            if rotation.new_token is not None:
                self.version = self._write(conn, rotation, seed_hash if rotation.source == "environment" else None)
            else:
                self.version = rotation.version
        # leaving the block committed the transaction: the rotated token is durable now

    def _write(self, conn, rotation: Rotation, seed_hash: str | None) -> int:
        ciphertext = self.cipher.encrypt(rotation.new_token)
        row = conn.execute(
            """
            insert into sync.oauth_token (service, account, refresh_token_enc, seed_hash)
            values (%(service)s, %(account)s, %(ciphertext)s, %(seed_hash)s)
            on conflict (service, account) do update set
                refresh_token_enc = excluded.refresh_token_enc,
                seed_hash = coalesce(%(new_seed_hash)s, sync.oauth_token.seed_hash),
                version = sync.oauth_token.version + 1,
                updated_at = now()
            returning version
            """,
            {
                "service": self.service,
                "account": self.account,
                "ciphertext": ciphertext,
                "seed_hash": seed_hash or "",
                "new_seed_hash": seed_hash,
            },
        ).fetchone()
        return row[0]
