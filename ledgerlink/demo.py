"""`ledgerlink demo`: the whole pipeline on the embedded default, no accounts, no servers.

Starts the embedded Postgres and both sandbox APIs, runs the nightly job through Dagster (a
real run recorded in the Dagster storage, visible afterwards in `ledgerlink ui`), then the
month-end reconciliation for last month, and prints where to look next.
"""

from __future__ import annotations

import os
from datetime import timedelta

import psycopg
import typer

from ledgerlink import db, orchestrate, paths
from ledgerlink.config import Settings
from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS, child_table

DEMO_DB = "ledgerlink_demo"


def _fresh_demo_database() -> str:
    """The demo's warehouse: recreated each time, because each demo starts a fresh sandbox."""
    server_url = db.database_url()
    with db.connect(server_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("drop database if exists {} with (force)").format(psycopg.sql.Identifier(DEMO_DB)))
        conn.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(DEMO_DB)))
    return db.with_database(server_url, DEMO_DB)


def staging_counts(url: str) -> list[tuple[str, int]]:
    tables = [s.table for s in SALESFORCE_OBJECTS]
    for entity in QBO_ENTITIES:
        tables.append(entity.table)
        tables += [child_table(entity, c) for c in entity.children]
    with db.connect(url) as conn:
        return [
            (f"staging.{t}", conn.execute(f"select count(*) from staging.{t}").fetchone()[0]) for t in tables
        ]


def run_demo(profile: str = "small", seed: int = 0) -> int:
    from sandbox.generator import generate
    from sandbox.server import Sandbox, SandboxSettings

    typer.echo(f"Generating the '{profile}' sandbox data (seed {seed})...")
    dataset = generate(profile, seed=seed)
    url = _fresh_demo_database()
    orchestrate.prepare_warehouse(url)
    orchestrate.prepare_dagster_home(url)
    with Sandbox(dataset, paths.home() / "sandbox-demo", SandboxSettings(seed=seed)) as sandbox:
        os.environ.update(sandbox.env)
        settings = Settings.load()
        orchestrate.preflight(settings)
        orchestrate.check_credentials()
        partition = dataset.as_of.isoformat()
        typer.echo(f"Sandbox up: Salesforce {sandbox.sf_url}, QuickBooks {sandbox.qbo_url}")
        typer.echo(f"Running the nightly job for {partition} through Dagster...")
        nightly = orchestrate.run_job("nightly", partition, tags={"ledgerlink/trigger": "demo"})
        typer.echo(f"Nightly run {nightly.run_id}: {'succeeded' if nightly.success else 'FAILED'}")
        if nightly.success:
            typer.echo("\nRows per staging table:")
            for table, count in staging_counts(url):
                typer.echo(f"  {table:<36} {count:>9,}")
        # The demo's warehouse is its own database: the follow-up commands need to be told so.
        on_demo_db = f"LEDGERLINK_DATABASE_URL='{url}'"
        typer.echo(
            "\nWhere to look next:\n"
            f"  ledgerlink ui        runs, assets and metadata (DAGSTER_HOME={os.environ['DAGSTER_HOME']})\n"
            f"  psql '{url}'   the warehouse (schemas staging, sync, report)\n"
            f"  {on_demo_db} ledgerlink quality report   what the data-quality checks found\n"
            f"  {on_demo_db} ledgerlink reports serve    the reconciliation files in a browser"
        )
        month_end = None
        if nightly.success:
            month = (dataset.as_of.replace(day=1) - timedelta(days=1)).replace(day=1)
            typer.echo(f"\nRunning the month-end reconciliation for {month:%Y-%m}...")
            month_end = orchestrate.run_job("month_end", month.isoformat(), tags={"ledgerlink/trigger": "demo"})
            typer.echo(f"Month-end run {month_end.run_id}: {'succeeded' if month_end.success else 'FAILED'}")
            if month_end.success:
                _print_month_end(url, month)  # last: the bridge and the CSV paths

    ok = nightly.success and (month_end is None or month_end.success)
    return 0 if ok else 1


def _print_month_end(url: str, month) -> None:
    try:
        from ledgerlink.reconcile.report import summarize_month
    except ImportError:
        return
    typer.echo(summarize_month(url, month))
