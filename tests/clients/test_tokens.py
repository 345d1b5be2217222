"""Refresh tokens: encrypted at rest, rotated one holder at a time, env token only a seed."""

import stat
import threading

import pytest
from cryptography.fernet import Fernet

from ledgerlink.clients import tokens
from ledgerlink.clients.tokens import TokenCipher, TokenStore
from ledgerlink.db import ConfigurationError


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERLINK_HOME", str(tmp_path))
    monkeypatch.delenv(tokens.TOKEN_KEY_ENV, raising=False)
    return tmp_path


def test_key_file_is_created_private_and_reused(home):
    first = tokens.load_key()
    path = home / "token.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tokens.load_key() == first
    assert not [p for p in home.iterdir() if p.name.endswith(".tmp")]


def test_env_key_wins_over_the_key_file(home, monkeypatch):
    key = Fernet.generate_key()
    monkeypatch.setenv(tokens.TOKEN_KEY_ENV, key.decode())
    assert tokens.load_key() == key
    assert not (home / "token.key").exists()


def test_malformed_env_key_fails_fast_without_echoing_it(home, monkeypatch):
    monkeypatch.setenv(tokens.TOKEN_KEY_ENV, "not-a-key-s3cr3t")
    with pytest.raises(ConfigurationError) as info:
        tokens.load_key()
    assert tokens.TOKEN_KEY_ENV in str(info.value)
    assert "s3cr3t" not in str(info.value)


def test_cipher_round_trip_and_fingerprint(home):
    cipher = TokenCipher()
    ciphertext = cipher.encrypt("RT1-abc")
    assert b"RT1-abc" not in ciphertext
    assert cipher.decrypt(ciphertext) == "RT1-abc"
    assert cipher.fingerprint("RT1-abc") == cipher.fingerprint("RT1-abc") != cipher.fingerprint("RT1-abd")
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        TokenCipher(Fernet.generate_key()).decrypt(ciphertext)


def test_rotation_stores_the_new_token_encrypted(home, db_url, conn):
    store = TokenStore(db_url, "qbo", "123")
    with store.rotation(seed="RT1-seed") as rotation:
        assert (rotation.token, rotation.source) == ("RT1-seed", "environment")
        rotation.save("RT1-second")
    assert store.stored() == ("RT1-second", 1)
    row = conn.execute("select refresh_token_enc, seed_hash from sync.oauth_token").fetchone()
    assert b"RT1-second" not in bytes(row[0]) and "RT1-seed" not in row[1]


def test_stored_token_wins_over_the_unchanged_seed(home, db_url):
    store = TokenStore(db_url, "qbo", "123")
    with store.rotation(seed="RT1-seed") as rotation:
        rotation.save("RT1-second")
    # A restart: the environment still holds the (now stale) seed.
    restarted = TokenStore(db_url, "qbo", "123")
    with restarted.rotation(seed="RT1-seed") as rotation:
        assert (rotation.token, rotation.source) == ("RT1-second", "stored")
        rotation.save("RT1-third")
    assert restarted.stored() == ("RT1-third", 2)


def test_a_changed_seed_means_the_app_was_reconnected(home, db_url):
    store = TokenStore(db_url, "qbo", "123")
    with store.rotation(seed="RT1-seed") as rotation:
        rotation.save("RT1-second")
    with store.rotation(seed="RT1-reconnected") as rotation:
        assert (rotation.token, rotation.source) == ("RT1-reconnected", "environment")
        rotation.save("RT1-fresh")
    # ... and that new seed is now the remembered one.
    with store.rotation(seed="RT1-reconnected") as rotation:
        assert rotation.token == "RT1-fresh"


def test_a_failed_refresh_saves_nothing(home, db_url):
    store = TokenStore(db_url, "qbo", "123")
    with store.rotation(seed="RT1-seed") as rotation:
        rotation.save("RT1-second")
    with pytest.raises(RuntimeError), store.rotation() as rotation:
        raise RuntimeError("token endpoint said invalid_grant")
    assert store.stored() == ("RT1-second", 1)


def test_no_stored_token_and_no_seed_is_a_configuration_error(home, db_url):
    with pytest.raises(ConfigurationError, match="refresh token"), TokenStore(db_url, "qbo", "9").rotation():
        pass


def test_concurrent_rotations_never_reuse_the_same_old_token(home, db_url):
    """The second refresher waits for the first and refreshes with the token it saved."""
    with TokenStore(db_url, "qbo", "123").rotation(seed="RT1-seed") as rotation:
        rotation.save("RT1-a")
    first_inside = threading.Event()
    release_first = threading.Event()
    seen: dict[str, str] = {}

    def first():
        with TokenStore(db_url, "qbo", "123").rotation() as rotation:
            seen["first"] = rotation.token
            first_inside.set()
            release_first.wait(10)
            rotation.save("RT1-b")

    def second():
        first_inside.wait(10)
        with TokenStore(db_url, "qbo", "123").rotation() as rotation:
            seen["second"] = rotation.token
            rotation.save("RT1-c")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_inside.wait(10)
    release_first.set()
    for t in threads:
        t.join(20)
    assert seen == {"first": "RT1-a", "second": "RT1-b"}
    assert TokenStore(db_url, "qbo", "123").stored() == ("RT1-c", 3)


def test_a_new_key_makes_the_environment_seed_win(home, db_url, monkeypatch):
    TokenStore(db_url, "qbo", "123")  # creates the key file
    with TokenStore(db_url, "qbo", "123").rotation(seed="RT1-seed") as rotation:
        rotation.save("RT1-second")
    monkeypatch.setenv(tokens.TOKEN_KEY_ENV, Fernet.generate_key().decode())
    # The old ciphertext is unreadable; the seed fingerprint no longer matches either, so the
    # environment's token is tried (an operator who lost the key reconnects the app).
    with TokenStore(db_url, "qbo", "123").rotation(seed="RT1-seed") as rotation:
        assert rotation.source == "environment"
