"""The CSV files finance downloads, rendered from the `report.*` tables.

One definition per file: which table, which columns in which order. The same bytes go to the
reports folder, to `ledgerlink report reconciliation --out`, and to the download page.

Format: UTF-8 with a byte-order mark (so Excel opens accented names correctly; every CSV
reader skips it), one header row, comma separated, CRLF line ends (RFC 4180), ISO dates,
amounts with exactly two decimals (the column's scale: exchange rates keep six), booleans
as true/false, empty for none.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class Export:
    name: str
    title: str
    report: str  # the build that produces it: 'reconciliation' | 'aging'
    table: str
    columns: tuple[str, ...]
    order_by: tuple[str, ...]

    def filename(self, month: str) -> str:
        return f"{self.name}_{month}.csv"


EXPORTS: tuple[Export, ...] = (
    Export(
        "reconciliation",
        "Reconciliation detail: Closed Won opportunities and invoices of the month",
        "reconciliation",
        "reconciliation",
        (
            "month", "row_no", "category", "row_kind",
            "sf_opportunity_id", "opportunity_name", "opportunity_stage", "sf_account_id", "account_name",
            "owner_id", "owner_name", "close_date", "opp_currency", "opp_amount", "opp_rate", "opp_amount_home",
            "opp_line_items", "match_method", "linked_invoices", "live_linked_invoices",
            "qbo_invoice_id", "invoice_doc_number", "qbo_customer_id", "customer_name", "customer_linked",
            "invoice_status", "invoice_txn_date", "invoice_due_date", "invoice_currency", "invoice_exchange_rate",
            "invoice_total", "invoice_balance", "invoice_total_home", "invoice_sales_lines", "credit_memo_total",
            "variance", "days_close_to_invoice", "closed_won_home", "invoiced_home", "variance_home",
            "changed_after_invoicing",
        ),
        ("row_no",),
    ),
    Export(
        "bridge",
        "Bridge: Closed Won total, each category's effect, Invoiced total",
        "reconciliation",
        "bridge",
        ("month", "position", "line", "rows", "closed_won_home", "invoiced_home", "amount_home", "running_home",
         "home_currency"),
        ("position",),
    ),
    Export(
        "bridge_by_customer",
        "Closed Won versus Invoiced by customer",
        "reconciliation",
        "bridge_by_customer",
        ("month", "sf_account_id", "qbo_customer_id", "customer_name", "rows", "closed_won_home", "invoiced_home",
         "variance_home"),
        ("position",),
    ),
    Export(
        "bridge_by_owner",
        "Closed Won versus Invoiced by opportunity owner",
        "reconciliation",
        "bridge_by_owner",
        ("month", "owner_id", "owner_name", "rows", "closed_won_home", "invoiced_home", "variance_home"),
        ("position",),
    ),
    Export(
        "aging",
        "Receivables aging by customer at month end (days past the due date)",
        "aging",
        "aging_customer",
        ("month", "as_of_date", "aged_from", "qbo_customer_id", "customer_name", "currency", "open_invoices",
         "bucket_current", "bucket_1_30", "bucket_31_60", "bucket_61_90", "bucket_91_plus", "total", "total_home"),
        ("position",),
    ),
    Export(
        "aging_invoices",
        "Open invoices at month end with their aging bucket",
        "aging",
        "aging_invoice",
        ("month", "as_of_date", "aged_from", "qbo_invoice_id", "invoice_doc_number", "qbo_customer_id",
         "customer_name", "txn_date", "due_date", "days_past_due", "bucket", "currency", "exchange_rate",
         "invoice_total", "open_balance", "open_balance_home"),
        ("customer_name", "qbo_customer_id", "due_date", "qbo_invoice_id"),
    ),
    Export(
        "aging_summary",
        "Receivables by bucket in home currency and days sales outstanding",
        "aging",
        "aging_summary",
        ("month", "as_of_date", "aged_from", "home_currency", "open_invoices", "current_home", "days_1_30_home",
         "days_31_60_home", "days_61_90_home", "days_91_plus_home", "receivables_home", "credit_sales_home",
         "days_in_period", "dso_days"),
        ("month",),
    ),
)
EXPORTS_BY_NAME = {e.name: e for e in EXPORTS}


def _text_columns(conn: psycopg.Connection, export: Export) -> list[sql.Composable]:
    """Each column rendered as text by Postgres: numerics keep their declared scale (two
    decimals for amounts, six for rates), dates come out ISO, booleans true/false. No
    per-cell work in Python, so a month of a large company writes in a fraction of a second."""
    types = dict(
        conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'report' and table_name = %s",
            (export.table,),
        ).fetchall()
    )
    exprs = []
    for column in export.columns:
        ident = sql.Identifier(column)
        if types[column] == "date":
            exprs.append(sql.SQL("to_char(t.{}, 'YYYY-MM-DD')").format(ident))
        else:
            exprs.append(sql.SQL("t.{}::text").format(ident))
    return exprs


def rows(conn: psycopg.Connection, export: Export, month: str) -> Iterator[list[str | None]]:
    """The header, then the month's rows as text (None for empty)."""
    # Ordered by the table's typed columns (t.), not by their text renderings.
    query = sql.SQL("select {cols} from report.{table} t where t.month = %s order by {order}").format(
        cols=sql.SQL(", ").join(_text_columns(conn, export)),
        table=sql.Identifier(export.table),
        order=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in export.order_by),
    )
    yield list(export.columns)
    with conn.cursor() as cur:
        cur.execute(query, (month,))
        yield from cur


def _write(stream, lines: Iterable[list[str]]) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerows(lines)


def csv_bytes(conn: psycopg.Connection, export: Export | str, month: str) -> bytes:
    export = EXPORTS_BY_NAME[export] if isinstance(export, str) else export
    buffer = io.StringIO()
    _write(buffer, rows(conn, export, month))
    return buffer.getvalue().encode(ENCODING)


def write_csv(conn: psycopg.Connection, export: Export | str, month: str, path: Path) -> Path:
    """Write one file atomically: a reader never sees it half-written."""
    export = EXPORTS_BY_NAME[export] if isinstance(export, str) else export
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=ENCODING, newline="") as stream:
            _write(stream, rows(conn, export, month))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def month_folder(output_dir: Path, month: str) -> Path:
    return Path(output_dir) / month


def write_exports(conn: psycopg.Connection, report: str, month: str, output_dir: Path) -> dict[str, Path]:
    """Write every file of one build ('reconciliation' or 'aging') and record their paths."""
    folder = month_folder(output_dir, month)
    written = {
        e.name: write_csv(conn, e, month, folder / e.filename(month)) for e in EXPORTS if e.report == report
    }
    conn.execute(
        "update report.month_build set files = %s::jsonb where month = %s and report = %s",
        (json.dumps({k: str(v) for k, v in written.items()}), month, report),
    )
    return written

