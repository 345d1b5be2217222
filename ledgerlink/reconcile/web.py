"""`ledgerlink reports serve`: a small read-only page to download the month-end CSV files.

Lists every month built, shows a month's bridge, and serves each CSV with the same bytes the
report wrote to the reports folder (rendered from `report.*`, so the page needs the database
only, not the folder). GET only; every query runs in a read-only transaction.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from ledgerlink import db
from ledgerlink.reconcile.build import Month
from ledgerlink.reconcile.exports import EXPORTS, EXPORTS_BY_NAME, csv_bytes
from ledgerlink.reconcile.report import MonthReport, load_month

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid #d8dee4; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #1d2733; }
.files { display: flex; flex-wrap: wrap; gap: .2rem .9rem; max-width: 60rem; }
.files a { white-space: nowrap; }
td.month { white-space: nowrap; }
.muted { color: #5a6675; }
"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _money(value) -> str:
    return f"{value:,.2f}"


def _months(conn: psycopg.Connection) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "select month from report.month_build union select month from report.bridge order by 1 desc"
        )
    ]


def _download_links(month: str) -> str:
    links = [
        f"<a href='/months/{month}/{e.name}.csv' download title='{html.escape(e.title)}'>"
        f"{html.escape(e.filename(month))}</a>"
        for e in EXPORTS
    ]
    return f"<div class='files'>{''.join(links)}</div>"


def _bridge_table(report: MonthReport) -> str:
    rows = []
    for b in report.bridge:
        total = b.position == 0 or b is report.bridge[-1]
        rows.append(
            f"<tr class='{'total' if total else ''}'><td>{html.escape(b.line)}</td><td class='num'>{b.rows}</td>"
            f"<td class='num'>{_money(b.amount_home)}</td><td class='num'>{_money(b.running_home)}</td></tr>"
        )
    return (
        f"<table class='bridge'><thead><tr><th>Closed Won to Invoiced</th><th class='num'>Rows</th>"
        f"<th class='num'>Amount ({html.escape(report.home_currency)})</th><th class='num'>Running</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _month_section(report: MonthReport) -> str:
    parts = [f"<h2>{html.escape(report.month)}</h2>"]
    if report.bridge:
        parts.append(_bridge_table(report))
    if report.receivables_home is not None:
        dso = f"{report.dso_days:.2f} days" if report.dso_days is not None else "n/a (no credit sales)"
        parts.append(
            f"<p>Receivables at month end: {_money(report.receivables_home)} {html.escape(report.home_currency)}; "
            f"days sales outstanding: {dso}. Aged from the due date.</p>"
        )
    parts.append(f"<h3>Download</h3>{_download_links(report.month)}")
    if report.built_at:
        parts.append(f"<p class='muted'>Built {report.built_at:%Y-%m-%d %H:%M %Z}</p>")
    return "".join(parts)


def create_app(database_url: str | None = None) -> Starlette:
    url = database_url or db.database_url()

    @contextmanager
    def read_only() -> Iterator[psycopg.Connection]:
        with db.connect(url) as conn:
            conn.read_only = True
            yield conn

    def index(request: Request) -> Response:
        with read_only() as conn:
            months = _months(conn)
            reports = {m: load_month(conn, m) for m in months}
        if not months:
            return _page(
                "LedgerLink month-end reports",
                "<h1>Month-end reports</h1><p>No month has been built yet: run the month-end job, or "
                "<code>ledgerlink report reconciliation --month YYYY-MM</code>.</p>",
            )
        rows = "".join(
            f"<tr><td class='month'><a href='/months/{m}'>{m}</a></td>"
            f"<td class='num'>{_money(r.closed_won_total) if r and r.bridge else ''}</td>"
            f"<td class='num'>{_money(r.invoiced_total) if r and r.bridge else ''}</td>"
            f"<td>{_download_links(m)}</td></tr>"
            for m, r in reports.items()
        )
        latest = reports[months[0]]
        body = (
            "<h1>Month-end reports</h1>"
            "<table class='months'><thead><tr><th>Month</th><th class='num'>Closed Won</th>"
            f"<th class='num'>Invoiced</th><th>CSV files</th></tr></thead><tbody>{rows}</tbody></table>"
            f"{_month_section(latest) if latest else ''}"
        )
        return _page("LedgerLink month-end reports", body)

    def month_page(request: Request) -> Response:
        try:
            month = Month.parse(request.path_params["month"])
        except ValueError as exc:
            return PlainTextResponse(str(exc), status_code=404)
        with read_only() as conn:
            report = load_month(conn, month.key)
        if report is None:
            return PlainTextResponse(f"No month-end report for {month}.", status_code=404)
        return _page(f"Month-end {month}", f"<p><a href='/'>All months</a></p>{_month_section(report)}")

    def download(request: Request) -> Response:
        name = request.path_params["name"]
        export = EXPORTS_BY_NAME.get(name)
        try:
            month = Month.parse(request.path_params["month"])
        except ValueError:
            export = None
        if export is None:
            return PlainTextResponse("No such report file.", status_code=404)
        with read_only() as conn:
            if month.key not in _months(conn):
                return PlainTextResponse(f"No month-end report for {month}.", status_code=404)
            body = csv_bytes(conn, export, month.key)
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{export.filename(month.key)}"'},
        )

    return Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/months/{month}", month_page, methods=["GET"]),
            Route("/months/{month}/{name}.csv", download, methods=["GET"]),
        ]
    )
