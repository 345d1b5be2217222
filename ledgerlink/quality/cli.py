"""`ledgerlink quality ...`: read the results, list what is held back, validate on demand."""

from __future__ import annotations

import datetime as dt
import uuid

import typer

from ledgerlink import db
from ledgerlink.quality import quarantine, results
from ledgerlink.quality.report import render_text
from ledgerlink.quality.suites import load_suites, suite_by_name

quality_app = typer.Typer(
    help="Data-quality gates: Great Expectations suites over staging and planned writes.",
    no_args_is_help=True,
)


def _url() -> str:
    url = db.database_url()
    db.migrate(url)
    return url


@quality_app.command()
def report(run: str = typer.Option(None, "--run", help="Run id (default: the latest run with results).")):
    """Print what failed in a run: expectation, rows, examples, what was quarantined."""
    with db.connect(_url()) as conn:
        run_id = run or results.latest_run_id(conn)
        if run_id is None:
            typer.echo("No quality results yet: run the nightly job or `ledgerlink quality validate`.")
            raise typer.Exit(0)
        rows = results.load(conn, run_id)
    if not rows:
        typer.echo(f"No quality results for run {run_id}.", err=True)
        raise typer.Exit(1)
    typer.echo(render_text(rows, run_id))


@quality_app.command("quarantine")
def list_quarantine(
    table: str = typer.Option(None, "--table", help="Only this table, e.g. staging.sf_opportunity."),
    limit: int = typer.Option(50, "--limit", min=1),
):
    """List records held back from the loads (open quarantine rows), newest first."""
    with db.connect(_url()) as conn:
        rows = quarantine.open_rows(conn, table, limit)
    if not rows:
        typer.echo("Nothing is quarantined.")
        return
    for r in rows:
        value = "null" if r["value"] is None else r["value"]
        typer.echo(
            f"{r['table_name']} {r['record_id']}: {r['reason']} [{r['suite']}.{r['expectation']}"
            f"{', ' + r['column_name'] if r['column_name'] else ''} = {value}] since run {r['first_seen_run']}"
        )


@quality_app.command()
def suites():
    """List the suites: the asset each checks, what it validates, whether it blocks."""
    for s in load_suites():
        row_level = sum(1 for r in s.rules if r.quarantine)
        typer.echo(
            f"{s.name:26} {s.asset_path:36} {s.source.describe():42} "
            f"{'blocking' if s.blocking else 'non-blocking':12} {len(s.rules)} expectations ({row_level} row-level)"
        )


@quality_app.command()
def validate(
    names: list[str] = typer.Argument(None, help="Suites to run (default: all whose source exists)."),
    run_id: str = typer.Option(None, "--run-id", help="Record results under this run id."),
    run_date: str = typer.Option(None, "--date", help="The run's date (YYYY-MM-DD), default today."),
):
    """Validate now, outside Dagster: quarantines and releases like the nightly run, then reports.

    Exits with status 2 when a blocking suite failed, as the nightly run would stop the loads.
    """
    from ledgerlink.quality.gate import run_suite  # noqa: PLC0415 - keeps `--help` fast

    url = _url()
    chosen = [suite_by_name(n) for n in names] if names else load_suites()
    day = dt.date.fromisoformat(run_date) if run_date else dt.date.today()
    run_id = run_id or f"cli-{uuid.uuid4().hex[:12]}"
    runs = []
    for suite in chosen:
        if not names and suite.source.table and not _exists(url, suite.source.table):
            typer.echo(f"skipped {suite.name}: {suite.source.table} does not exist yet", err=True)
            continue
        runs.append(run_suite(url, suite, run_id=run_id, run_date=day))
    with db.connect(url) as conn:
        if not names:
            quarantine.release_removed_suites(conn, suites=[s.name for s in chosen], run_id=run_id)
        typer.echo(render_text(results.load(conn, run_id), run_id))
    if any(r.blocks for r in runs):
        raise typer.Exit(2)


def _exists(url: str, relation: str) -> bool:
    with db.connect(url) as conn:
        return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]
