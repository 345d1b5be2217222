"""`ledgerlink quality ...` prints what failed, how many rows, examples, and what is held back."""

from __future__ import annotations

from typer.testing import CliRunner

from ledgerlink.quality.cli import quality_app
from tests.quality.data import seed

runner = CliRunner()


def _invoke(*args):
    return runner.invoke(quality_app, list(args), catch_exceptions=False)


def test_validate_then_report_reads_like_a_finance_summary(db_url, conn):
    seed(conn)
    conn.execute("update staging.sf_opportunity set amount = -5.00 where id = 'o3'")
    conn.execute("update staging.qb_invoice set customer_id = null where id = '102'")

    validated = _invoke("validate", "sf_opportunity", "qb_invoice", "--run-id", "night-1", "--date", "2026-11-22")
    assert validated.exit_code == 2, validated.output  # a blocking suite failed

    report = _invoke("report")  # latest run
    assert report.exit_code == 0
    text = report.output
    assert "Quality report for run night-1" in text
    assert "2 suites, 18 expectations: 16 passed, 2 failed, 0 could not run." in text
    assert "Loads stopped by: qb_invoice." in text
    assert "[ERROR] qb_invoice (staging/qb_invoice, 3 rows): 9/10 passed; blocks the loads" in text
    assert "customer_present [customer_id]: Every invoice has a customer" in text
    assert "1 row failed (33.3%)" in text
    assert "amount_not_negative [amount]: Opportunity amount is not negative" in text
    assert "row-level, critical: 1 row failed (25.0%); 1 held (1 new), 0 released" in text
    assert "e.g. id=o3, amount=-5.00" in text

    held = _invoke("quarantine")
    assert "staging.sf_opportunity o3: Opportunity amount is not negative" in held.output
    assert "[sf_opportunity.amount_not_negative, amount = -5.00] since run night-1" in held.output

    conn.execute("update staging.sf_opportunity set amount = 5 where id = 'o3'")
    _invoke("validate", "sf_opportunity", "--run-id", "night-2", "--date", "2026-11-22")
    again = _invoke("report", "--run", "night-2")
    assert "No blocking failure: the loads may run." in again.output
    assert "ok    amount_not_negative: 1 released" in again.output
    assert _invoke("quarantine").output.strip() == "Nothing is quarantined."
    assert "night-1" in _invoke("report", "--run", "night-1").output


def test_report_for_an_unknown_run_fails(db_url):
    result = runner.invoke(quality_app, ["report", "--run", "nope"])
    assert result.exit_code == 1
    assert "No quality results for run nope." in result.output


def test_suites_lists_each_suite_with_its_asset_and_mode(db_url):
    out = _invoke("suites").output
    assert "sf_opportunity" in out and "staging/sf_opportunity" in out and "blocking" in out
    assert "planned_invoices" in out and "sql/quality/planned_invoices.sql" in out
