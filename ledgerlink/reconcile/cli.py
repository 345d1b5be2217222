"""`ledgerlink report ...` writes a month's reports; `ledgerlink reports serve` serves them.

Mounted by `ledgerlink.cli` as `report` (`report_app`) and `reports` (`reports_app`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledgerlink import db

report_app = typer.Typer(help="Month-end reports: reconciliation, bridge and aging CSV files.", no_args_is_help=True)
reports_app = typer.Typer(help="Browse and download the month-end reports.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _month(value: str) -> str:
    from ledgerlink.reconcile.build import Month

    try:
        return Month.parse(value).key
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@report_app.command("reconciliation")
def reconciliation(
    month: Annotated[str, typer.Option("--month", help="The month to close, YYYY-MM.", callback=_month)],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the reconciliation detail CSV to this file ('-' for standard output)."),
    ] = None,
) -> None:
    """Build a month's reconciliation, bridge and aging; write the CSV files; print the bridge.

    Files go to the reports folder (`reports.directory` in the settings file, default
    $LEDGERLINK_HOME/reports/<month>/); the rows are kept in the warehouse's report.* tables.
    """
    from ledgerlink.config import Settings
    from ledgerlink.orchestrate import prepare_warehouse
    from ledgerlink.reconcile.exports import csv_bytes
    from ledgerlink.reconcile.report import write_month

    try:
        settings = Settings.load()
        url = prepare_warehouse()
        with db.connect(url) as conn:
            report = write_month(conn, month, settings)
            detail = csv_bytes(conn, "reconciliation", month) if out is not None else b""
    except db.ConfigurationError as exc:
        _fail(str(exc))
    to_stdout = out is not None and str(out) == "-"
    # With --out -, standard output carries only the CSV; the summary goes to standard error.
    typer.echo(report.summary_text(), err=to_stdout)
    if to_stdout:
        sys.stdout.buffer.write(detail)
        sys.stdout.flush()
    elif out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(detail)
        typer.echo(f"  {out.resolve()}")


@reports_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Start a read-only web page listing the months, their bridge, and links to every CSV file."""
    import uvicorn

    from ledgerlink.orchestrate import prepare_warehouse
    from ledgerlink.reconcile.web import create_app

    try:
        url = prepare_warehouse()
    except db.ConfigurationError as exc:
        _fail(str(exc))
    typer.echo(f"Month-end reports on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(create_app(url), host=host, port=port, log_level="warning")
