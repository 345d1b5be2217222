"""Every reconciliation category on hand-written scenarios, one rule at a time (rules.py numbering)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.reconcile.build import build_reconciliation
from ledgerlink.reconcile.rules import OPPORTUNITY_REF, opportunity_ref
from tests.reports.scenarios import Scenario

OCT = "2026-10"
D = Decimal


def reconcile(load, scenario: Scenario, settings, month: str = OCT) -> dict:
    """Build `month`; return its rows keyed by (opportunity id, invoice id)."""
    conn = load(scenario.finish())
    build_reconciliation(conn, month, settings)
    cur = conn.execute(
        "select sf_opportunity_id, qbo_invoice_id, category, closed_won_home, invoiced_home, row_kind "
        "from report.reconciliation where month = %s order by row_no",
        (month,),
    )
    rows = {}
    for opp, inv, category, closed, invoiced, kind in cur:
        assert (opp, inv) not in rows, f"two rows for {(opp, inv)}"
        rows[(opp, inv)] = (category, closed, invoiced, kind)
    return rows


def bridge(conn, month: str = OCT) -> dict[str, Decimal]:
    return dict(conn.execute("select line, amount_home from report.bridge where month = %s", (month,)).fetchall())


# --- opportunity rows --------------------------------------------------------------------------


def test_matched_and_not_invoiced(load, report_settings):
    s = Scenario()
    acme = s.account("Acme")
    matched = s.opportunity(acme, "1000.00", date(2026, 10, 5))
    inv = s.invoice(acme, "1000.00", date(2026, 10, 6), opp=matched)
    never_billed = s.opportunity(acme, "250.00", date(2026, 10, 20))
    lost = s.opportunity(acme, "999.00", date(2026, 10, 21), won=False)
    september = s.opportunity(acme, "10.00", date(2026, 9, 30))

    rows = reconcile(load, s, report_settings)

    assert rows[(matched, inv)] == ("MATCHED", D("1000.00"), D("1000.00"), "opportunity")
    assert rows[(never_billed, None)] == ("NOT_INVOICED", D("250.00"), D("0.00"), "opportunity")
    assert not [k for k in rows if k[0] in (lost, september)]


def test_tolerance_is_one_cent(load, report_settings):
    s = Scenario()
    acme = s.account()
    within = s.opportunity(acme, "1000.00", date(2026, 10, 5))
    inv_within = s.invoice(acme, "1000.01", date(2026, 10, 5), opp=within)
    beyond = s.opportunity(acme, "1000.00", date(2026, 10, 5))
    inv_beyond = s.invoice(acme, "1000.02", date(2026, 10, 5), opp=beyond)

    rows = reconcile(load, s, report_settings)

    assert rows[(within, inv_within)][0] == "MATCHED"
    assert rows[(beyond, inv_beyond)][:3] == ("AMOUNT_MISMATCH", D("1000.00"), D("1000.02"))


def test_voided_or_deleted_invoice_of_an_opportunity(load, report_settings):
    s = Scenario()
    acme = s.account()
    voided_opp = s.opportunity(acme, "700.00", date(2026, 10, 3))
    voided = s.invoice(acme, "700.00", date(2026, 10, 4), opp=voided_opp, voided=True)
    deleted_opp = s.opportunity(acme, "800.00", date(2026, 10, 3))
    deleted = s.invoice(acme, "800.00", date(2026, 10, 4), opp=deleted_opp, deleted=True)
    # A note that merely starts with "Voided" on a real amount is not a void.
    not_void_opp = s.opportunity(acme, "900.00", date(2026, 10, 3))
    not_void = s.invoice(acme, "900.00", date(2026, 10, 4), opp=not_void_opp, note=f"Voided cheque, paid by card {not_void_opp}")

    rows = reconcile(load, s, report_settings)

    assert rows[(voided_opp, voided)] == ("VOIDED_OR_DELETED", D("700.00"), D("0.00"), "opportunity")
    assert rows[(deleted_opp, deleted)] == ("VOIDED_OR_DELETED", D("800.00"), D("0.00"), "opportunity")
    assert rows[(not_void_opp, not_void)][0] == "MATCHED"


def test_opportunity_carries_its_live_invoice_over_an_earlier_voided_one(load, report_settings):
    s = Scenario()
    acme = s.account()
    opp = s.opportunity(acme, "500.00", date(2026, 10, 3))
    voided = s.invoice(acme, "500.00", date(2026, 10, 4), opp=opp, voided=True)
    reissued = s.invoice(acme, "500.00", date(2026, 10, 6), opp=opp)

    rows = reconcile(load, s, report_settings)

    assert rows[(opp, reissued)] == ("MATCHED", D("500.00"), D("500.00"), "opportunity")
    assert rows[(opp, voided)] == ("VOIDED_OR_DELETED", D("0.00"), D("0.00"), "invoice")


def test_duplicate_invoices_lowest_id_compared_as_a_number(load, report_settings):
    s = Scenario()
    acme = s.account()
    opp = s.opportunity(acme, "300.00", date(2026, 10, 10))
    # "99" < "100" as numbers, not as text: 99 is the first invoice.
    second = s.invoice(acme, "300.00", date(2026, 10, 11), opp=opp, invoice_id="100")
    first = s.invoice(acme, "300.00", date(2026, 10, 12), opp=opp, invoice_id="99")

    rows = reconcile(load, s, report_settings)

    assert rows[(opp, first)] == ("DUPLICATE_INVOICE", D("300.00"), D("300.00"), "opportunity")
    assert rows[(opp, second)] == ("DUPLICATE_INVOICE", D("0.00"), D("300.00"), "invoice")


def test_customer_mismatch_comes_before_amount_and_currency(load, report_settings):
    s = Scenario()
    acme = s.account("Acme")
    globex = s.account("Globex")
    unlinked = s.account("Initech", linked=False)
    wrong_customer = s.opportunity(acme, "100.00", date(2026, 10, 1))
    inv1 = s.invoice(globex, "150.00", date(2026, 10, 2), opp=wrong_customer, currency="EUR", rate="1.08")
    no_link = s.opportunity(unlinked, "100.00", date(2026, 10, 1))
    inv2 = s.invoice(unlinked, "100.00", date(2026, 10, 2), opp=no_link)

    rows = reconcile(load, s, report_settings)

    assert rows[(wrong_customer, inv1)][0] == "CUSTOMER_MISMATCH"
    assert rows[(no_link, inv2)][0] == "CUSTOMER_MISMATCH"


def test_duplicate_accounts_sharing_one_qbo_customer_both_match(load, report_settings):
    # sync.customer_xref: one QBO customer per account, several accounts may share it.
    s = Scenario()
    acme = s.account("Acme")
    acme_dupe = s.account("ACME Corp.", linked=False)
    s.links.append((acme_dupe[0], acme[1]))
    first = s.opportunity(acme, "100.00", date(2026, 10, 1))
    inv1 = s.invoice(acme, "100.00", date(2026, 10, 2), opp=first)
    second = s.opportunity(acme_dupe, "200.00", date(2026, 10, 1))
    inv2 = s.invoice(acme, "200.00", date(2026, 10, 2), opp=second)
    # The dupe's own (unlinked) QBO customer is not the linked one.
    third = s.opportunity(acme_dupe, "300.00", date(2026, 10, 1))
    inv3 = s.invoice(acme_dupe, "300.00", date(2026, 10, 2), opp=third)

    rows = reconcile(load, s, report_settings)

    assert rows[(first, inv1)][0] == rows[(second, inv2)][0] == "MATCHED"
    assert rows[(third, inv3)][0] == "CUSTOMER_MISMATCH"


def test_currency_difference(load, report_settings):
    s = Scenario()
    acme = s.account()
    opp = s.opportunity(acme, "1000.00", date(2026, 10, 1), currency="EUR")
    inv = s.invoice(acme, "1080.00", date(2026, 10, 2), opp=opp, currency="USD")

    rows = reconcile(load, s, report_settings)

    assert rows[(opp, inv)] == ("CURRENCY_DIFFERENCE", D("1080.00"), D("1080.00"), "opportunity")


def test_credited_comes_before_amount(load, report_settings):
    s = Scenario()
    acme = s.account()
    opp = s.opportunity(acme, "1000.00", date(2026, 10, 1))
    inv = s.invoice(acme, "1200.00", date(2026, 10, 2), opp=opp)
    s.credit_memo(inv, acme, "200.00", date(2026, 10, 15))

    rows = reconcile(load, s, report_settings)

    # The bridge counts the invoice, not the invoice net of the credit.
    assert rows[(opp, inv)] == ("CREDITED", D("1000.00"), D("1200.00"), "opportunity")


def test_partially_invoiced_needs_fewer_lines_than_line_items(load, report_settings):
    s = Scenario()
    acme = s.account()
    partial = s.opportunity(acme, "1000.00", date(2026, 10, 1), line_items=3)
    inv_partial = s.invoice(acme, "400.00", date(2026, 10, 2), opp=partial, lines=1)
    short_all_lines = s.opportunity(acme, "1000.00", date(2026, 10, 1), line_items=2)
    inv_short = s.invoice(acme, "400.00", date(2026, 10, 2), opp=short_all_lines, lines=2)
    over = s.opportunity(acme, "1000.00", date(2026, 10, 1), line_items=3)
    inv_over = s.invoice(acme, "1400.00", date(2026, 10, 2), opp=over, lines=1)

    rows = reconcile(load, s, report_settings)

    assert rows[(partial, inv_partial)][:3] == ("PARTIALLY_INVOICED", D("1000.00"), D("400.00"))
    assert rows[(short_all_lines, inv_short)][0] == "AMOUNT_MISMATCH"
    assert rows[(over, inv_over)][0] == "AMOUNT_MISMATCH"


def test_timing_difference_on_both_sides_of_a_month_end(load, report_settings, conn):
    s = Scenario()
    acme = s.account()
    closes_oct = s.opportunity(acme, "600.00", date(2026, 10, 30))
    billed_nov = s.invoice(acme, "600.00", date(2026, 11, 2), opp=closes_oct)
    closed_sep = s.opportunity(acme, "400.00", date(2026, 9, 29))
    billed_oct = s.invoice(acme, "400.00", date(2026, 10, 1), opp=closed_sep)

    rows = reconcile(load, s, report_settings)

    assert rows[(closes_oct, billed_nov)] == ("TIMING_DIFFERENCE", D("600.00"), D("0.00"), "opportunity")
    assert rows[(closed_sep, billed_oct)] == ("TIMING_DIFFERENCE", D("0.00"), D("400.00"), "invoice")

    build_reconciliation(conn, "2026-11", report_settings)
    nov = conn.execute(
        "select category, closed_won_home, invoiced_home from report.reconciliation "
        "where month = '2026-11' and qbo_invoice_id = %s",
        (billed_nov,),
    ).fetchall()
    assert nov == [("TIMING_DIFFERENCE", D("0.00"), D("600.00"))]


# --- invoice rows ------------------------------------------------------------------------------


def test_invoice_rows(load, report_settings):
    s = Scenario()
    acme = s.account()
    lost = s.opportunity(acme, "100.00", date(2026, 10, 1), won=False)
    gone = s.opportunity(acme, "100.00", date(2026, 10, 1), deleted=True)
    august = s.opportunity(acme, "100.00", date(2026, 8, 1))
    aug_first = s.invoice(acme, "100.00", date(2026, 8, 2), opp=august)
    aug_again = s.invoice(acme, "100.00", date(2026, 10, 3), opp=august)
    no_ref = s.invoice(acme, "10.00", date(2026, 10, 3))
    to_lost = s.invoice(acme, "20.00", date(2026, 10, 3), opp=lost)
    to_deleted = s.invoice(acme, "30.00", date(2026, 10, 3), opp=gone)
    to_unknown = s.invoice(acme, "40.00", date(2026, 10, 3), note="see 006AAAAAAAAAAAAAAA")
    voided = s.invoice(acme, "50.00", date(2026, 10, 3), voided=True)
    deleted = s.invoice(acme, "60.00", date(2026, 10, 3), deleted=True)

    rows = reconcile(load, s, report_settings)

    assert rows[(august, aug_again)] == ("DUPLICATE_INVOICE", D("0.00"), D("100.00"), "invoice")
    assert (august, aug_first) not in rows
    assert rows[(None, no_ref)] == ("INVOICED_WITHOUT_OPPORTUNITY", D("0.00"), D("10.00"), "invoice")
    assert rows[(lost, to_lost)][0] == "INVOICED_WITHOUT_OPPORTUNITY"
    assert rows[(gone, to_deleted)][0] == "INVOICED_WITHOUT_OPPORTUNITY"
    assert rows[("006AAAAAAAAAAAAAAA", to_unknown)][0] == "INVOICED_WITHOUT_OPPORTUNITY"
    assert rows[(None, voided)] == ("VOIDED_OR_DELETED", D("0.00"), D("0.00"), "invoice")
    assert rows[(None, deleted)] == ("VOIDED_OR_DELETED", D("0.00"), D("0.00"), "invoice")
    assert {k for k in rows if k[0] in (lost, gone)} == {(lost, to_lost), (gone, to_deleted)}


def test_bridge_adds_up_to_the_cent(load, report_settings):
    s = Scenario()
    acme = s.account()
    a = s.opportunity(acme, "1000.00", date(2026, 10, 1))
    s.invoice(acme, "999.99", date(2026, 10, 2), opp=a)
    s.opportunity(acme, "333.33", date(2026, 10, 3))
    b = s.opportunity(acme, "10.00", date(2026, 9, 3))
    s.invoice(acme, "10.00", date(2026, 10, 3), opp=b)
    s.invoice(acme, "0.01", date(2026, 10, 31))

    conn = load(s.finish())
    build_reconciliation(conn, OCT, report_settings)
    lines = bridge(conn)

    assert lines["Closed Won total"] == D("1333.33")
    assert lines["Invoiced total"] == D("1010.00")
    assert lines["MATCHED"] == D("-0.01")  # within the one-cent tolerance, still bridged to the cent
    assert lines["NOT_INVOICED"] == D("-333.33")
    assert lines["TIMING_DIFFERENCE"] == D("10.00")
    assert lines["INVOICED_WITHOUT_OPPORTUNITY"] == D("0.01")
    effects = sum(v for k, v in lines.items() if k not in ("Closed Won total", "Invoiced total"))
    assert lines["Closed Won total"] + effects == lines["Invoiced total"]
    running = conn.execute(
        "select running_home from report.bridge where month = %s order by position desc limit 2", (OCT,)
    ).fetchall()
    assert running[0] == running[1] == (D("1010.00"),)


def test_rebuilding_a_month_replaces_it_and_leaves_other_months(load, report_settings):
    s = Scenario()
    acme = s.account()
    s.opportunity(acme, "100.00", date(2026, 10, 1))
    s.opportunity(acme, "200.00", date(2026, 9, 1))
    conn = load(s.finish())
    build_reconciliation(conn, "2026-09", report_settings)
    build_reconciliation(conn, OCT, report_settings)
    build_reconciliation(conn, OCT, report_settings)

    counts = dict(conn.execute("select month, count(*) from report.reconciliation group by month").fetchall())
    assert counts == {"2026-09": 1, OCT: 1}
    assert bridge(conn, "2026-09")["Closed Won total"] == D("200.00")


def test_totals_by_customer_and_owner(load, report_settings, conn):
    s = Scenario()
    acme = s.account("Acme")
    globex = s.account("Globex")
    stranger = s.customer("Walk-in Customer")
    pat = s.user("Pat Closer")
    a = s.opportunity(acme, "100.00", date(2026, 10, 1), owner=pat)
    s.invoice(acme, "100.00", date(2026, 10, 2), opp=a)
    s.opportunity(globex, "50.00", date(2026, 10, 1))
    s.invoice(globex, "7.00", date(2026, 10, 2))  # orphan of a linked customer: Globex
    s.invoice(stranger, "5.00", date(2026, 10, 2))

    conn = load(s.finish())
    build_reconciliation(conn, OCT, report_settings)

    customers = conn.execute(
        "select customer_name, rows, closed_won_home, invoiced_home, variance_home "
        "from report.bridge_by_customer where month = %s order by position",
        (OCT,),
    ).fetchall()
    assert customers == [
        ("Acme", 1, D("100.00"), D("100.00"), D("0.00")),
        ("Globex", 2, D("50.00"), D("7.00"), D("-43.00")),
        ("Walk-in Customer", 1, D("0.00"), D("5.00"), D("5.00")),
    ]
    owners = conn.execute(
        "select owner_name, rows, closed_won_home, invoiced_home from report.bridge_by_owner "
        "where month = %s order by position",
        (OCT,),
    ).fetchall()
    assert owners == [
        ("Dana Seller", 1, D("50.00"), D("0.00")),
        ("Pat Closer", 1, D("100.00"), D("100.00")),
        ("(no opportunity owner)", 2, D("0.00"), D("12.00")),
    ]


@pytest.mark.parametrize(
    "note",
    [
        "Opp 006TST000000000123 renewal",
        "006TST000000000123",
        "Voided - Salesforce opportunity 006TST000000000123",
        "ref:006TST000000000123.",
        "x006TST000000000123",  # glued to a word: not a reference
        "006TST0000000001234",  # 19 characters: not an 18-character Id
        "006TST00000000012",  # 17 characters
        "first 006AAAAAAAAAAAAAAA then 006BBBBBBBBBBBBBBB",
        "_006TST000000000123",
        None,
        "",
    ],
)
def test_sql_reads_the_opportunity_reference_like_rules_py(conn, note):
    from ledgerlink.reconcile.build import postgres_pattern

    found = conn.execute("select substring(%s::text from %s)", (note, postgres_pattern(OPPORTUNITY_REF))).fetchone()
    assert found[0] == opportunity_ref(note)


def test_the_bridge_check_names_what_does_not_add_up(load, report_settings):
    from ledgerlink.reconcile.checks import bridge_problems

    s = Scenario()
    acme = s.account()
    opp = s.opportunity(acme, "100.00", date(2026, 10, 1))
    s.invoice(acme, "100.00", date(2026, 10, 2), opp=opp)
    orphan = s.invoice(acme, "5.00", date(2026, 10, 3))
    conn = load(s.finish())
    build_reconciliation(conn, OCT, report_settings)
    assert bridge_problems(conn, OCT) == []

    conn.execute("update report.bridge set amount_home = amount_home + 1 where month = %s and line = 'MATCHED'", (OCT,))
    conn.execute("delete from report.reconciliation where month = %s and qbo_invoice_id = %s", (OCT, orphan))
    problems = bridge_problems(conn, OCT)
    assert len(problems) == 2
    assert "not the Invoiced total 105.00" in problems[0]
    assert "1 invoice(s) dated in 2026-10 are on no reconciliation row" in problems[1]
    assert bridge_problems(conn, "2026-03") == ["no bridge stored for 2026-03"]
