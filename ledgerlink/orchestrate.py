"""Start-up shared by the CLI commands: database, migrations, Dagster home, preflight checks.

A real deployment only sets environment variables; this module turns them (or the embedded
defaults) into a ready warehouse and a Dagster instance stored in Postgres.
"""

from __future__ import annotations

import logging
import os
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

from ledgerlink import db, paths
from ledgerlink.config import Settings
from ledgerlink.extract.specs import SPECS_BY_KEY, ensure_staging_tables

log = logging.getLogger(__name__)

DAGSTER_PG_URL_ENV = "LEDGERLINK_DAGSTER_PG_URL"
REQUIRED_API_ENV = {
    "Salesforce": ["LEDGERLINK_SF_LOGIN_URL", "LEDGERLINK_SF_CLIENT_ID"],
    "QuickBooks Online": [
        "LEDGERLINK_QBO_CLIENT_ID",
        "LEDGERLINK_QBO_CLIENT_SECRET",
        "LEDGERLINK_QBO_REFRESH_TOKEN",
        "LEDGERLINK_QBO_REALM_ID",
    ],
}


def prepare_warehouse(url: str | None = None) -> str:
    """Reach (or start) Postgres, apply migrations, create staging tables; return the URL."""
    url = url or db.database_url()
    os.environ[db.DATABASE_URL_ENV] = url
    db.migrate(url)
    with db.connect(url) as conn:
        ensure_staging_tables(conn)
    return url


def prepare_dagster_home(url: str) -> str:
    """Point DAGSTER_HOME at a folder holding the repo's dagster.yaml, storage in Postgres.

    Dagster's run, event-log and schedule storage live in their own `dagster` database on
    the warehouse's server.
    """
    dagster_url = db.ensure_database(url, db.DAGSTER_DB_NAME)
    os.environ[DAGSTER_PG_URL_ENV] = db.sqlalchemy_url(dagster_url, "psycopg2")
    home = paths.home() / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return str(home)


def preflight(settings: Settings) -> None:
    """Fail before any run starts when configuration is missing or wrong."""
    unknown = [name for name in settings.extract.full_refresh if tuple(name.split(".", 1)) not in SPECS_BY_KEY]
    if unknown:
        known = ", ".join(f"{s}.{o}" for s, o in SPECS_BY_KEY)
        raise db.ConfigurationError(f"extract.full_refresh names unknown object(s) {unknown}; known: {known}")
    missing = {system: [v for v in names if not os.environ.get(v)] for system, names in REQUIRED_API_ENV.items()}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        detail = "; ".join(f"{system}: {', '.join(names)}" for system, names in missing.items())
        raise db.ConfigurationError(
            f"Missing environment variables ({detail}). Set them for the real services, "
            "or start `ledgerlink sandbox serve` and export what it prints."
        )
    if not (os.environ.get("LEDGERLINK_SF_CLIENT_SECRET") or os.environ.get("LEDGERLINK_SF_PRIVATE_KEY_FILE")):
        raise db.ConfigurationError(
            "Salesforce needs LEDGERLINK_SF_CLIENT_SECRET (client credentials) or "
            "LEDGERLINK_SF_USERNAME + LEDGERLINK_SF_PRIVATE_KEY_FILE (JWT bearer)."
        )


def check_credentials() -> None:
    """Log in to both APIs once, so bad credentials fail at start, not mid-run."""
    from pipelines.resources import build_resources

    resources = build_resources(resolve_env=True)
    resources["salesforce"].client().connect()
    resources["qbo"].client(os.environ[db.DATABASE_URL_ENV]).connect()


def today(settings: Settings) -> str:
    return datetime.now(ZoneInfo(settings.schedule.timezone)).date().isoformat()


def run_job(job_name: str, partition_key: str, tags: dict | None = None):
    """Run a job once through Dagster, recorded in the instance's Postgres storage."""
    import dagster as dg

    from pipelines.definitions import defs

    instance = dg.DagsterInstance.get()
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(
        instance=instance, partition_key=partition_key, raise_on_error=False, tags=tags or {}
    )
