"""Build one month's reports in Postgres: reconciliation rows, bridge, totals, aging.

The rules live in `rules.py`; their one implementation is the SQL in `sql/report/` (fast on
large companies, and the category logic reads top to bottom in `reconciliation.sql`). Each
build replaces its month in one transaction, so a re-run or a backfill never leaves a month
half-written, and two runs for the same month wait for each other.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from ledgerlink.config import ReportSettings
from ledgerlink.db import ConfigurationError, read_sql
from ledgerlink.reconcile.rules import OPPORTUNITY_REF, TOLERANCE, Category

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

RECONCILIATION_TABLES = ("reconciliation", "bridge", "bridge_by_customer", "bridge_by_owner")
AGING_TABLES = ("aging_invoice", "aging_customer", "aging_summary")
REQUIRED_TABLES = (
    "staging.sf_opportunity",
    "staging.sf_opportunity_line_item",
    "staging.sf_account",
    "staging.sf_user",
    "staging.qb_invoice",
    "staging.qb_invoice_line",
    "staging.qb_customer",
    "staging.qb_credit_memo",
    "staging.qb_payment",
    "staging.qb_payment_line",
    "sync.customer_xref",
    "report.reconciliation",
)


@dataclass(frozen=True)
class Month:
    """A calendar month, `YYYY-MM`."""

    key: str
    start: date

    @classmethod
    def parse(cls, value: str | date) -> Month:
        if isinstance(value, date):
            return cls(f"{value:%Y-%m}", value.replace(day=1))
        match = _MONTH.match(value.strip()) if isinstance(value, str) else None
        if match is None:
            # Dagster monthly partition keys are the first day: 2026-10-01.
            try:
                return cls.parse(date.fromisoformat(value.strip()))
            except (ValueError, AttributeError):
                raise ValueError(f"{value!r} is not a month in YYYY-MM form (for example 2026-10)") from None
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"{value!r} is not a month in YYYY-MM form (month {month} is out of range)")
        return cls(value.strip(), date(year, month, 1))

    @property
    def next(self) -> date:
        return (self.start + timedelta(days=32)).replace(day=1)

    @property
    def last_day(self) -> date:
        return self.next - timedelta(days=1)

    def __str__(self) -> str:
        return self.key


def postgres_pattern(pattern: re.Pattern) -> str:
    """A Python regex of `rules.py` in Postgres syntax: `\\b` (word boundary) is `\\y` there."""
    return pattern.pattern.replace(r"\b", r"\y")


def home_rates(settings: ReportSettings) -> dict[str, Decimal]:
    """The configured rates with the home currency at 1; a wrong home rate is a config error."""
    rates = {code.upper(): Decimal(rate) for code, rate in settings.exchange_rates.items()}
    home = settings.home_currency.upper()
    if rates.setdefault(home, Decimal(1)) != 1:
        raise ConfigurationError(
            f"reports.exchange_rates.{home} is {rates[home]}, but {home} is the home currency: set it to 1 "
            "(rates are home-currency units per one unit of the other currency)."
        )
    return rates


def _params(month: Month, settings: ReportSettings) -> dict:
    rates = home_rates(settings)
    return {
        "month": month.key,
        "start": month.start,
        "next": month.next,
        "as_of": month.last_day,
        "home": settings.home_currency.upper(),
        "rates": json.dumps({code: str(rate) for code, rate in rates.items()}),
        "ref_pattern": postgres_pattern(OPPORTUNITY_REF),
        "tolerance": TOLERANCE,
        "categories": [c.value for c in Category],
    }


def _run(conn: psycopg.Connection, name: str, params: dict) -> None:
    # Client-side binding: the report files hold several statements each.
    with psycopg.ClientCursor(conn) as cur:
        cur.execute(read_sql(f"report/{name}.sql"), params)


def _check_inputs(conn: psycopg.Connection) -> None:
    missing = [
        t for t in REQUIRED_TABLES if conn.execute("select to_regclass(%s)", (t,)).fetchone()[0] is None
    ]
    if missing:
        raise ConfigurationError(
            f"The reports need table(s) {', '.join(missing)}: run `ledgerlink migrate` "
            "(and the nightly extract and matching) first."
        )


def _check_rates(conn: psycopg.Connection, month: Month, report: str) -> None:
    """Every amount the report sums must convert to home currency; name the first that cannot."""
    if report == "reconciliation":
        query = """
            select 'opportunity', id, currency from rpt_opportunity
             where closed_won and rate is null and close_date >= %(start)s and close_date < %(next)s
            union all
            select 'invoice', id, currency from rpt_invoice
             where live and home_total is null and txn_date >= %(start)s and txn_date < %(next)s
            limit 1
        """
    else:
        query = """
            select 'invoice', id, currency from rpt_invoice_all
             where live and home_rate is null and txn_date <= %(as_of)s and coalesce(balance, total_amt) > 0
            limit 1
        """
    row = conn.execute(query, {"start": month.start, "next": month.next, "as_of": month.last_day}).fetchone()
    if row:
        kind, record_id, currency = row
        raise ConfigurationError(
            f"No exchange rate for {currency} ({kind} {record_id}, month {month}): add "
            f"reports.exchange_rates.{currency} to the settings file (home-currency units per 1 {currency})."
        )


def _prepare(conn: psycopg.Connection, month: Month, settings: ReportSettings, report: str, tables) -> dict:
    _check_inputs(conn)
    params = _params(month, settings)
    conn.execute("select pg_advisory_xact_lock(hashtext('ledgerlink.report'), hashtext(%s))", (month.key,))
    _run(conn, "invoice_facts", params)
    if report == "reconciliation":
        _run(conn, "month_facts", params)
    _check_rates(conn, month, report)
    for table in tables:
        conn.execute(f"delete from report.{table} where month = %s", (month.key,))
    return params


def _record(conn: psycopg.Connection, month: Month, report: str, settings: ReportSettings) -> None:
    conn.execute(
        """
        insert into report.month_build (month, report, built_at, home_currency, files)
        values (%s, %s, now(), %s, '{}')
        on conflict (month, report) do update
           set built_at = excluded.built_at, home_currency = excluded.home_currency, files = '{}'
        """,
        (month.key, report, settings.home_currency.upper()),
    )


def build_reconciliation(conn: psycopg.Connection, month: Month | str, settings: ReportSettings) -> None:
    """Replace the month's reconciliation rows, bridge, and totals by customer and by owner."""
    month = Month.parse(month) if not isinstance(month, Month) else month
    with conn.transaction():
        params = _prepare(conn, month, settings, "reconciliation", RECONCILIATION_TABLES)
        for name in ("reconciliation", "bridge", "bridge_by_customer", "bridge_by_owner"):
            _run(conn, name, params)
        _record(conn, month, "reconciliation", settings)


def build_aging(conn: psycopg.Connection, month: Month | str, settings: ReportSettings) -> None:
    """Replace the month's aging: open invoices at month end, per customer, totals and DSO."""
    month = Month.parse(month) if not isinstance(month, Month) else month
    with conn.transaction():
        params = _prepare(conn, month, settings, "aging", AGING_TABLES)
        for name in ("aging_invoices", "aging_by_customer", "aging_summary"):
            _run(conn, name, params)
        _record(conn, month, "aging", settings)
