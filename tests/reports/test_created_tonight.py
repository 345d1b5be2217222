"""Month-end follows the nightly run, whose loads create invoices after its QBO extract: those
invoices count in the report straight away, not only after the next night's extract."""

from __future__ import annotations

from ledgerlink.config import ReportSettings, Settings
from ledgerlink.load.planner import plan_invoices
from ledgerlink.load.sender import send_outbox
from ledgerlink.reconcile.report import write_month
from tests.load.conftest import extract_qbo, link_truth, load_dataset, qbo_client, tiny_dataset

SCALE = 600


def rows_for(conn, months, opportunities) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in conn.execute(
        "select sf_opportunity_id, category, qbo_invoice_id, invoiced_home from report.reconciliation"
        " where month = any(%s) and sf_opportunity_id = any(%s) and row_kind = 'opportunity'",
        (sorted(months), sorted(opportunities)))}


def test_invoices_created_tonight_count_before_the_next_extract(conn, db_url, sandbox_factory, tmp_path):
    dataset = tiny_dataset()
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE)
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    plan_invoices(conn, Settings(), as_of=dataset.as_of, run_id="night")
    result = send_outbox(db_url, qbo_client(sandbox.env, db_url, time_scale=SCALE), max_attempts=3, run_id="night")
    assert result.aborted is None and result.counts()["invoices_created"] > 0
    created = dict(conn.execute("select sf_opportunity_id, qb_invoice_id from sync.invoice_xref").fetchall())
    assert not conn.execute("select count(*) from staging.qb_invoice where id = any(%s)",
                            (list(created.values()),)).fetchone()[0], "tonight's invoices are not staged yet"
    months = {r[0] for r in conn.execute(
        "select distinct to_char(close_date, 'YYYY-MM') from staging.sf_opportunity where id = any(%s)",
        (list(created),))}
    report_settings = ReportSettings(directory=tmp_path / "reports")

    for month in months:
        write_month(conn, month, report_settings)
    tonight = rows_for(conn, months, created)
    assert set(tonight) == set(created)
    for opportunity, (category, invoice_id, _invoiced) in tonight.items():
        assert category != "NOT_INVOICED", opportunity
        assert invoice_id == created[opportunity]

    # The next night's extract brings the same invoices into staging: the report does not move.
    extract_qbo(conn, qbo_client(sandbox.env, db_url, time_scale=SCALE), entities=("Invoice",))
    for month in months:
        write_month(conn, month, report_settings)
    assert rows_for(conn, months, created) == tonight
