"""Month-end reports in one call: build in Postgres, write the CSV files, return the bridge.

`write_month(conn, "2026-10", settings)` is what the CLI, the demo and the benchmark call; the
Dagster assets call `build_*` and `write_exports` separately so each asset owns its files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from tabulate import tabulate

from ledgerlink import db
from ledgerlink.config import ReportSettings, Settings
from ledgerlink.reconcile.build import Month, build_aging, build_reconciliation
from ledgerlink.reconcile.exports import EXPORTS, write_exports


@dataclass(frozen=True)
class BridgeLine:
    position: int
    line: str
    rows: int
    closed_won_home: Decimal
    invoiced_home: Decimal
    amount_home: Decimal
    running_home: Decimal


@dataclass
class MonthReport:
    month: str
    home_currency: str
    bridge: list[BridgeLine]
    files: dict[str, Path] = field(default_factory=dict)
    receivables_home: Decimal | None = None
    dso_days: Decimal | None = None
    built_at: datetime | None = None

    @property
    def closed_won_total(self) -> Decimal:
        return self.bridge[0].amount_home

    @property
    def invoiced_total(self) -> Decimal:
        return self.bridge[-1].amount_home

    @property
    def categories(self) -> list[BridgeLine]:
        return self.bridge[1:-1]

    def balanced(self) -> bool:
        return self.closed_won_total + sum(c.amount_home for c in self.categories) == self.invoiced_total

    def bridge_text(self) -> str:
        table = [
            (b.line, b.rows, f"{b.amount_home:,.2f}", f"{b.running_home:,.2f}")
            for b in self.bridge
            if b.rows or b.amount_home or b.position in (0, len(self.bridge) - 1)
        ]
        return tabulate(
            table,
            headers=("", "rows", f"amount ({self.home_currency})", "running"),
            colalign=("left", "right", "right", "right"),
            disable_numparse=True,
        )

    def summary_text(self) -> str:
        lines = [f"Closed Won versus Invoiced, {self.month} ({self.home_currency})", "", self.bridge_text(), ""]
        if self.receivables_home is not None:
            dso = f"{self.dso_days:.2f} days" if self.dso_days is not None else "n/a (no credit sales)"
            lines.append(f"Receivables at month end: {self.receivables_home:,.2f}; DSO: {dso}")
        if self.files:
            lines.append("Files:")
            lines += [f"  {path}" for path in self.files.values()]
        return "\n".join(lines)


def load_bridge(conn: psycopg.Connection, month: str) -> list[BridgeLine]:
    rows = conn.execute(
        "select position, line, rows, closed_won_home, invoiced_home, amount_home, running_home "
        "from report.bridge where month = %s order by position",
        (month,),
    ).fetchall()
    return [BridgeLine(*row) for row in rows]


def load_month(conn: psycopg.Connection, month: str) -> MonthReport | None:
    """A month's report as stored in `report.*`, or None if it was never built."""
    bridge = load_bridge(conn, month)
    builds = conn.execute(
        "select report, built_at, home_currency, files from report.month_build where month = %s", (month,)
    ).fetchall()
    if not bridge and not builds:
        return None
    aging = conn.execute(
        "select receivables_home, dso_days from report.aging_summary where month = %s", (month,)
    ).fetchone()
    files: dict[str, Path] = {}
    by_report = {report: files_ for report, _, _, files_ in builds}
    for export in EXPORTS:
        path = (by_report.get(export.report) or {}).get(export.name)
        if path:
            files[export.name] = Path(path)
    return MonthReport(
        month=month,
        home_currency=builds[0][2] if builds else "",
        bridge=bridge,
        files=files,
        receivables_home=aging[0] if aging else None,
        dso_days=aging[1] if aging else None,
        built_at=max((b[1] for b in builds), default=None),
    )


def write_month(conn: psycopg.Connection, month: str | date, settings: Settings | ReportSettings) -> MonthReport:
    """Build the month's reconciliation and aging, write every CSV file, return the bridge and paths."""
    reports = settings.reports if isinstance(settings, Settings) else settings
    month = Month.parse(month)
    build_reconciliation(conn, month, reports)
    build_aging(conn, month, reports)
    for report in ("reconciliation", "aging"):
        write_exports(conn, report, month.key, reports.output_dir)
    if not conn.autocommit:
        conn.commit()
    loaded = load_month(conn, month.key)
    assert loaded is not None  # just built
    return loaded


def summarize_month(url: str, month: str | date) -> str:
    """The stored bridge and file paths of a month, for the demo's closing lines."""
    month = Month.parse(month)
    with db.connect(url) as conn:
        report = load_month(conn, month.key)
    if report is None:
        return f"No month-end report for {month} yet."
    return report.summary_text()
