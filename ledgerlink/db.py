"""Postgres access: the database URL, the embedded server, connections and migrations.

`LEDGERLINK_DATABASE_URL` selects an external Postgres. Without it LedgerLink starts an
embedded PostgreSQL 16 with the `pgserver` package, keeping its data under
`$LEDGERLINK_HOME/pg` and reusing it on the next start.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import psycopg

from ledgerlink import paths

log = logging.getLogger(__name__)

DATABASE_URL_ENV = "LEDGERLINK_DATABASE_URL"
DAGSTER_DB_NAME = "dagster"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class ConfigurationError(RuntimeError):
    """Bad configuration found at start-up; the message says how to fix it."""


def embedded_server(data_dir: Path | None = None):
    """Start (or attach to) the embedded Postgres and return the pgserver handle."""
    import pgserver  # imported lazily: only the embedded default needs it

    data_dir = data_dir or paths.home() / "pg"
    data_dir.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None keeps the server running for other processes (Dagster UI, daemon)
    # and keeps the data for the next start.
    return pgserver.get_server(str(data_dir), cleanup_mode=None)


def database_url() -> str:
    """The warehouse URL: `LEDGERLINK_DATABASE_URL`, or the embedded server's URL.

    The embedded URL is exported to the environment so child processes (Dagster runs,
    the UI) see the same database.
    """
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    url = embedded_server().get_uri()
    os.environ[DATABASE_URL_ENV] = url
    return url


def with_database(url: str, dbname: str) -> str:
    """The same server, another database name."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def sqlalchemy_url(url: str, driver: str = "psycopg2") -> str:
    """A libpq URL rewritten for SQLAlchemy with an explicit driver.

    dagster-postgres needs `postgresql+psycopg2://`: SQLAlchemy 2.1 picks psycopg 3 for a bare
    `postgresql://` and Dagster's `NOTIFY run_events, $1` then fails (see README).
    """
    parts = urlsplit(url)
    return urlunsplit((f"postgresql+{driver}", parts.netloc, parts.path, parts.query, parts.fragment))


def describe(url: str) -> str:
    """A URL safe to print: the password is replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in creds else f"{user}@{host}"
    query = parse_qs(parts.query)
    query.pop("password", None)
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, doseq=True), ""))


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg 3 connection; fails fast with a message naming the database if unreachable."""
    url = url or database_url()
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        raise ConfigurationError(
            f"Cannot connect to Postgres at {describe(url)}: {str(exc).strip()}. "
            f"Check {DATABASE_URL_ENV} (unset it to use the embedded database)."
        ) from None


@contextmanager
def transaction(url: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection whose work commits on success and rolls back on error."""
    with connect(url) as conn:
        yield conn


def ensure_database(url: str, dbname: str) -> str:
    """Create database `dbname` on the server of `url` if missing; return its URL."""
    with connect(url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(dbname)))
    return with_database(url, dbname)


def migration_files(sql_dir: Path = paths.SQL_DIR) -> list[Path]:
    files = sorted(p for p in sql_dir.glob("*.sql") if _MIGRATION_NAME.match(p.name))
    numbers = [p.name[:3] for p in files]
    duplicates = {n for n in numbers if numbers.count(n) > 1}
    if duplicates:
        raise ConfigurationError(f"Two migrations share the number(s) {sorted(duplicates)} in {sql_dir}")
    return files


def migrate(url: str | None = None, sql_dir: Path = paths.SQL_DIR) -> list[str]:
    """Create the staging tables, then apply the numbered `sql/NNN_name.sql` files in order,
    once each; return those applied.

    An advisory lock serialises concurrent starters (the UI and a run starting together).
    """
    applied_now: list[str] = []
    with connect(url) as conn:
        conn.execute("select pg_advisory_xact_lock(hashtext('ledgerlink.migrate'))")
        conn.execute(
            "create table if not exists public.schema_migration ("
            " name text primary key, applied_at timestamptz not null default now())"
        )
        done = {row[0] for row in conn.execute("select name from public.schema_migration")}
        # Staging tables are generated from the extract specs, and later migrations (views,
        # checks) read them, so they exist before any numbered migration runs.
        from ledgerlink.extract.specs import ensure_staging_tables

        conn.execute("create schema if not exists staging")
        ensure_staging_tables(conn)
        for path in migration_files(sql_dir):
            if path.name in done:
                continue
            log.info("Applying migration %s", path.name)
            conn.execute(path.read_text())
            conn.execute("insert into public.schema_migration (name) values (%s)", (path.name,))
            applied_now.append(path.name)
    return applied_now


def read_sql(name: str) -> str:
    """The text of a non-migration SQL file in `sql/` (for example `report/bridge.sql`)."""
    return (paths.SQL_DIR / name).read_text()
