"""A multi-currency month end to end: home-currency totals, aging, DSO, and the CSV files."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.config import ReportSettings
from ledgerlink.db import ConfigurationError
from ledgerlink.reconcile.build import Month, build_reconciliation
from ledgerlink.reconcile.exports import EXPORTS, EXPORTS_BY_NAME, csv_bytes
from ledgerlink.reconcile.report import summarize_month, write_month
from tests.reports.scenarios import Scenario

D = Decimal
OCT = "2026-10"


def multi_currency_month() -> Scenario:
    s = Scenario()
    berlin = s.account("Berliner Maschinenbau GmbH", currency="EUR")
    london = s.account("Thames & Co Ltd", currency="GBP")
    toronto = s.account("Maple Leaf Inc", currency="CAD")
    boston = s.account("Boston Widgets")
    # EUR billed at the configured rate: same document amount, same home amount.
    eur = s.opportunity(berlin, "1000.00", date(2026, 10, 5), currency="EUR", name="Presse")
    s.invoice(berlin, "1000.00", date(2026, 10, 6), opp=eur, currency="EUR", rate="1.08", due=date(2026, 11, 5))
    # GBP billed at the day's rate: matched in GBP, the home amounts differ by the rate.
    # 1.50 GBP x 1.27 = 1.905 -> 1.91 (half up).
    gbp = s.opportunity(london, "1.50", date(2026, 10, 7), currency="GBP", name="Tea")
    s.invoice(london, "1.50", date(2026, 10, 8), opp=gbp, currency="GBP", rate="1.2650", due=date(2026, 9, 30))
    # CAD not invoiced yet.
    s.opportunity(toronto, "2000.00", date(2026, 10, 9), currency="CAD", name="Hockey")
    # A USD invoice without an opportunity, paid after month end: still open on Oct 31.
    orphan = s.invoice(boston, "500.00", date(2026, 10, 10), due=date(2026, 8, 1), balance="0.00")
    s.payment(orphan, boston, "500.00", date(2026, 11, 3))
    # Paid in October: not open at month end.
    paid = s.invoice(boston, "80.00", date(2026, 10, 11), balance="0.00")
    s.payment(paid, boston, "80.00", date(2026, 10, 20))
    # Partly paid in October, rest after.
    part = s.invoice(boston, "100.00", date(2026, 9, 1), due=date(2026, 8, 31), balance="0.00")
    s.payment(part, boston, "30.00", date(2026, 10, 2))
    s.payment(part, boston, "70.00", date(2026, 11, 2))
    # Voided and November invoices are never open at Oct 31.
    s.invoice(boston, "70.00", date(2026, 10, 12), voided=True)
    s.invoice(boston, "90.00", date(2026, 11, 1))
    return s


@pytest.fixture
def october(load, report_settings):
    conn = load(multi_currency_month().finish())
    return conn, write_month(conn, OCT, report_settings)


def test_totals_are_in_home_currency_and_the_bridge_balances(october):
    conn, report = october
    closed_won = D("1080.00") + D("1.91") + D("1460.00")
    invoiced = D("1080.00") + D("1.90") + D("500.00") + D("80.00")
    assert report.closed_won_total == closed_won
    assert report.invoiced_total == invoiced
    assert report.balanced()
    effects = {b.line: b.amount_home for b in report.categories}
    assert effects["MATCHED"] == D("-0.01")  # the GBP rate difference, explained on its row
    assert effects["NOT_INVOICED"] == D("-1460.00")
    assert effects["INVOICED_WITHOUT_OPPORTUNITY"] == D("580.00")
    # No sum anywhere mixes document currencies: per-customer aging is per currency.
    currencies = conn.execute(
        "select customer_name, currency from report.aging_customer where month = %s order by position", (OCT,)
    ).fetchall()
    assert currencies == [
        ("Berliner Maschinenbau GmbH", "EUR"),
        ("Boston Widgets", "USD"),
        ("Thames & Co Ltd", "GBP"),
    ]


def test_aging_at_month_end_from_the_due_date(october):
    conn, report = october
    aging = {
        row[0]: row[1:]
        for row in conn.execute(
            "select customer_name, bucket_current, bucket_1_30, bucket_31_60, bucket_61_90, bucket_91_plus, "
            "total, total_home from report.aging_customer where month = %s",
            (OCT,),
        )
    }
    # EUR invoice due Nov 5: current. GBP due Sep 30: 31 days past due.
    assert aging["Berliner Maschinenbau GmbH"] == (D("1000.00"), 0, 0, 0, 0, D("1000.00"), D("1080.00"))
    assert aging["Thames & Co Ltd"] == (0, 0, D("1.50"), 0, 0, D("1.50"), D("1.90"))
    # Orphan due Aug 1 (91 days) open in full; the September invoice due Aug 31 (61 days) has 70 open.
    assert aging["Boston Widgets"] == (0, 0, 0, D("70.00"), D("500.00"), D("570.00"), D("570.00"))
    summary = conn.execute(
        "select receivables_home, credit_sales_home, days_in_period, dso_days, aged_from "
        "from report.aging_summary where month = %s",
        (OCT,),
    ).fetchone()
    receivables = D("1080.00") + D("1.90") + D("570.00")
    sales = D("1661.90")
    assert summary == (receivables, sales, 31, (receivables / sales * 31).quantize(D("0.01")), "due_date")
    assert report.dso_days == summary[3]


@pytest.mark.parametrize(
    ("due", "bucket"),
    [(date(2026, 11, 1), "Current"), (date(2026, 10, 31), "Current"), (date(2026, 10, 30), "1-30"),
     (date(2026, 10, 1), "1-30"), (date(2026, 9, 30), "31-60"), (date(2026, 9, 1), "31-60"),
     (date(2026, 8, 31), "61-90"), (date(2026, 8, 2), "61-90"), (date(2026, 8, 1), "91+")],
)
def test_bucket_boundaries(load, report_settings, due, bucket):
    from ledgerlink.reconcile.build import build_aging

    s = Scenario()
    acme = s.account()
    s.invoice(acme, "10.00", date(2026, 7, 1), due=due)
    conn = load(s.finish())
    build_aging(conn, OCT, report_settings)
    assert conn.execute("select bucket from report.aging_invoice").fetchall() == [(bucket,)]


def _read(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def test_files_finance_opens(october, report_settings):
    conn, report = october
    assert set(report.files) == {e.name for e in EXPORTS}
    for export in EXPORTS:
        path = report.files[export.name]
        assert path == report_settings.output_dir / OCT / f"{export.name}_{OCT}.csv"
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbfmonth,")  # UTF-8 with BOM, one header row
        assert raw.endswith(b"\r\n")
        rows = _read(path)
        assert rows[0] == list(export.columns)
        assert all(len(r) == len(export.columns) for r in rows)
        assert raw == csv_bytes(conn, export, OCT)  # the download page serves the same bytes

    detail = [dict(zip(_read(report.files["reconciliation"])[0], r, strict=True))
              for r in _read(report.files["reconciliation"])[1:]]
    assert len(detail) == 6  # 3 opportunities + the 3 October invoices no opportunity row carries
    eur = next(r for r in detail if r["opp_currency"] == "EUR")
    assert eur["category"] == "MATCHED"
    assert eur["close_date"] == "2026-10-05"
    assert eur["opp_amount"] == "1000.00" and eur["opp_amount_home"] == "1080.00"
    assert eur["invoice_exchange_rate"] == "1.080000"
    assert eur["customer_name"] == "Berliner Maschinenbau GmbH"
    bridge = _read(report.files["bridge"])
    assert bridge[1][2:3] == ["Closed Won total"] and bridge[-1][2:3] == ["Invoiced total"]
    assert len(bridge) == 1 + 13
    summary = report.summary_text()
    assert "Closed Won total" in summary and str(report.files["aging"]) in summary


def test_summarize_month_reads_the_stored_report(october, db_url):
    _, report = october
    text = summarize_month(db_url, date(2026, 10, 1))
    assert f"{report.closed_won_total:,.2f}" in text
    assert str(report.files["reconciliation"]) in text
    assert summarize_month(db_url, "2025-01") == "No month-end report for 2025-01 yet."


def test_a_currency_without_a_rate_is_a_configuration_error(load, report_settings):
    s = Scenario()
    tokyo = s.account("Tokyo KK", currency="JPY")
    opp = s.opportunity(tokyo, "100000.00", date(2026, 10, 1), currency="JPY")
    conn = load(s.finish())
    with pytest.raises(ConfigurationError, match=rf"JPY \(opportunity {opp}.*reports\.exchange_rates\.JPY"):
        build_reconciliation(conn, OCT, report_settings)
    # Nothing half-written.
    assert conn.execute("select count(*) from report.reconciliation").fetchone() == (0,)


def test_home_currency_rate_must_be_one(load, tmp_path):
    conn = load(Scenario().finish())
    bad = ReportSettings(directory=tmp_path, home_currency="EUR")  # default rates put EUR at 1.08
    with pytest.raises(ConfigurationError, match=r"reports\.exchange_rates\.EUR is 1\.08"):
        build_reconciliation(conn, OCT, bad)


def test_other_home_currency(load, tmp_path):
    s = Scenario()
    berlin = s.account("Berlin", currency="EUR")
    opp = s.opportunity(berlin, "100.00", date(2026, 10, 1), currency="USD")
    s.invoice(berlin, "100.00", date(2026, 10, 1), opp=opp, currency="USD", rate="0.92")
    conn = load(s.finish())
    settings = ReportSettings(directory=tmp_path, home_currency="EUR", exchange_rates={"EUR": 1, "USD": "0.92"})
    report = write_month(conn, OCT, settings)
    assert (report.closed_won_total, report.invoiced_total, report.home_currency) == (D("92.00"), D("92.00"), "EUR")


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "October", "2026/10", ""])
def test_month_must_be_yyyy_mm(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text)


def test_month_accepts_partition_keys():
    assert Month.parse("2026-10-01") == Month.parse("2026-10") == Month.parse(date(2026, 10, 17))
    assert Month.parse("2024-02").last_day == date(2024, 2, 29)
    assert Month.parse("2026-12").next == date(2027, 1, 1)
    assert EXPORTS_BY_NAME["aging"].filename("2026-12") == "aging_2026-12.csv"


def test_an_opportunity_changed_after_invoicing_says_so_in_the_detail(october, report_settings):
    conn, _ = october
    opportunity, invoice = conn.execute(
        "select sf_opportunity_id, qbo_invoice_id from report.reconciliation"
        " where month = %s and row_kind = 'opportunity' and qbo_invoice_id is not null order by row_no limit 1",
        (OCT,)).fetchone()
    # The loads saw the deal grow after it was invoiced (and left the invoice alone).
    conn.execute("insert into sync.invoice_drift (sf_opportunity_id, qb_invoice_id, field, sf_value, qb_value)"
                 " values (%s, %s, 'amount', '1200.00', '1000.00'), (%s, %s, 'lines', '3', '2')",
                 (opportunity, invoice, opportunity, invoice))
    conn.execute("insert into sync.invoice_drift (sf_opportunity_id, qb_invoice_id, field, sf_value, qb_value,"
                 " resolved_at) values (%s, %s, 'customer', 'a', 'b', now())", (opportunity, invoice))
    report = write_month(conn, OCT, report_settings)
    detail = [dict(zip(_read(report.files["reconciliation"])[0], r, strict=True))
              for r in _read(report.files["reconciliation"])[1:]]
    notes = {r["sf_opportunity_id"]: r["changed_after_invoicing"] for r in detail if r["row_kind"] == "opportunity"}
    assert notes.pop(opportunity) == "amount: Salesforce 1200.00, QBO 1000.00; lines: Salesforce 3, QBO 2"
    assert set(notes.values()) == {""}  # the others changed nothing; a resolved change is not shown
