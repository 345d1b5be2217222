"""Shared fixtures: a real Postgres (embedded pgserver) and the sandbox APIs.

Every test that needs a database gets its own freshly migrated database, cloned from a
template in a few milliseconds, so tests never see each other's rows.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from ledgerlink import db
from ledgerlink.extract.specs import ensure_staging_tables

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url():
    """One embedded PostgreSQL for the whole test session (or LEDGERLINK_TEST_DATABASE_URL)."""
    import os

    external = os.environ.get("LEDGERLINK_TEST_DATABASE_URL")
    if external:
        yield external
        return
    # A short path: the Unix socket lives in the data folder and socket paths are limited to ~100 bytes.
    data_dir = Path(tempfile.mkdtemp(prefix="llpg"))
    server = db.embedded_server(data_dir)
    yield server.get_uri()
    server.cleanup() if hasattr(server, "cleanup") else None
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db_url(pg_server_url):
    """A migrated database with every staging table, used as the template for each test."""
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute("drop database if exists ll_template")
        conn.execute("create database ll_template")
    url = db.with_database(pg_server_url, "ll_template")
    db.migrate(url)
    with db.connect(url) as conn:
        ensure_staging_tables(conn)
    return url


@pytest.fixture
def db_url(pg_server_url, template_db_url, monkeypatch):
    """A fresh, migrated database for one test; LEDGERLINK_DATABASE_URL points at it."""
    name = f"t_{next(_counter)}_{id(object()) % 100000}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"create database {name} template ll_template")
    url = db.with_database(pg_server_url, name)
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    yield url
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")


@pytest.fixture
def conn(db_url):
    """An autocommit connection to the test's database."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def sandbox_factory(tmp_path, monkeypatch):
    """Start a sandbox over a dataset (or a generated profile); env vars point at it.

    usage: sb = sandbox_factory(dataset=..., **SandboxSettings fields)
           sb = sandbox_factory(profile="tiny", seed=7)
    """
    from sandbox.server import Sandbox, SandboxSettings

    started = []

    def make(dataset=None, profile="tiny", seed=1, **settings):
        if dataset is None:
            from sandbox.generator import generate

            dataset = generate(profile, seed=seed)
        sandbox = Sandbox(dataset, tmp_path / f"sandbox{len(started)}", SandboxSettings(seed=seed, **settings))
        sandbox.start()
        started.append(sandbox)
        for key, value in sandbox.env.items():
            monkeypatch.setenv(key, value)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()
