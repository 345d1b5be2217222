"""Extract against the sandbox through the real clients: full, incremental, deletes, boundaries, crashes."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from ledgerlink.extract import qbo as qbo_extract
from ledgerlink.extract import salesforce as sf_extract
from ledgerlink.extract import watermark
from ledgerlink.extract.specs import SPECS_BY_KEY
from pipelines.resources import build_resources

ACCOUNT = SPECS_BY_KEY[("salesforce", "Account")]
OPPORTUNITY = SPECS_BY_KEY[("salesforce", "Opportunity")]
CUSTOMER = SPECS_BY_KEY[("qbo", "Customer")]
INVOICE = SPECS_BY_KEY[("qbo", "Invoice")]


@pytest.fixture
def pipeline(db_url, sandbox_factory):
    sandbox = sandbox_factory(profile="tiny", seed=3)
    resources = build_resources(resolve_env=True)
    sf = resources["salesforce"].client()
    sf.connect()
    qb = resources["qbo"].client(db_url)
    qb.connect()
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield sandbox, sf, qb, conn


def _sf(spec, sf, conn, **kw):
    kw.setdefault("page_size", 7)  # several pages even on the tiny profile
    return sf_extract.extract_object(sf, conn, spec, run_id="test", **kw)


def _qb(spec, qb, conn, **kw):
    return qbo_extract.extract_entity(qb, conn, spec, run_id="test", **kw)


def _staged(conn, table):
    return {r[0]: r[1] for r in conn.execute(f"select id, _deleted from staging.{table}")}


def test_full_extract_lands_every_record_with_deletions_flagged(pipeline):
    sandbox, sf, qb, conn = pipeline
    result = _sf(OPPORTUNITY, sf, conn)
    org = sandbox.sf.records["Opportunity"]
    staged = _staged(conn, "sf_opportunity")
    assert set(staged) == set(org)
    assert {i for i, d in staged.items() if d} == {i for i, r in org.items() if r.get("IsDeleted")}
    assert result["mode"] == "full" and result["counts"].pages > 1
    assert watermark.get(conn, "salesforce", "Opportunity") == max(r["SystemModstamp"] for r in org.values())

    result = _qb(INVOICE, qb, conn)
    assert set(_staged(conn, "qb_invoice")) == set(sandbox.qbo.entities["Invoice"])
    lines = conn.execute("select count(*) from staging.qb_invoice_line").fetchone()[0]
    assert lines >= len(sandbox.qbo.entities["Invoice"])  # every invoice has at least one sales line


def test_rerun_without_source_changes_changes_nothing(pipeline):
    sandbox, sf, qb, conn = pipeline
    _sf(ACCOUNT, sf, conn)
    _qb(CUSTOMER, qb, conn)
    before = conn.execute("select max(_extracted_at) from staging.sf_account").fetchone()[0]
    again = _sf(ACCOUNT, sf, conn)
    assert again["mode"] == "incremental"
    assert (again["counts"].inserted, again["counts"].updated, again["counts"].deleted) == (0, 0, 0)
    assert conn.execute("select max(_extracted_at) from staging.sf_account").fetchone()[0] == before
    qb_again = _qb(CUSTOMER, qb, conn)
    assert (qb_again["counts"].inserted, qb_again["counts"].updated, qb_again["counts"].deleted) == (0, 0, 0)


def test_incremental_picks_up_changes_and_deletes_in_both_systems(pipeline):
    sandbox, sf, qb, conn = pipeline
    _sf(ACCOUNT, sf, conn)
    _qb(INVOICE, qb, conn)
    live = [i for i, r in sandbox.sf.records["Account"].items() if not r.get("IsDeleted")]
    changed, removed = live[0], live[1]
    sf.sf.Account.update(changed, {"Name": "Renamed By Test Ltd"})
    sf.sf.Account.delete(removed)

    from quickbooks.objects.invoice import Invoice

    invoice_id = next(i for i, inv in sandbox.qbo.entities["Invoice"].items() if not inv.get("LinkedTxn"))
    Invoice.get(invoice_id, qb=qb.qb).delete(qb=qb.qb)

    result = _sf(ACCOUNT, sf, conn)
    assert result["counts"].updated == 1 and result["counts"].deleted == 1
    name = conn.execute("select name from staging.sf_account where id = %s", (changed,)).fetchone()[0]
    assert name == "Renamed By Test Ltd"
    assert _staged(conn, "sf_account")[removed] is True

    result = _qb(INVOICE, qb, conn)
    assert result["mode"] == "incremental" and result["counts"].deleted == 1
    row = conn.execute("select _deleted, doc_number from staging.qb_invoice where id = %s", (invoice_id,)).fetchone()
    assert row[0] is True and row[1]  # flagged deleted, last known values kept for the report


def test_record_stamped_exactly_at_the_watermark_is_not_lost(pipeline):
    sandbox, sf, qb, conn = pipeline
    _sf(ACCOUNT, sf, conn)
    mark = watermark.get(conn, "salesforce", "Account")
    # Two late commits: transactions that committed after our read, stamped at the watermark's
    # exact time and just inside the safety window. Created through the API, then back-dated
    # in the emulator's clock, as a slow transaction would be.
    from sandbox.salesforce import schema

    late_ids = []
    for name, stamp in (("Late At Mark Inc", mark), ("Late In Window Inc", mark - timedelta(seconds=30))):
        late_id = sf.sf.Account.create({"Name": name})["id"]
        record = sandbox.sf.records["Account"][late_id]
        record["SystemModstamp"] = stamp
        sandbox.sf._format_all(schema.get("Account"), [record])
        late_ids.append(late_id)
    result = _sf(ACCOUNT, sf, conn)
    staged = _staged(conn, "sf_account")
    assert set(late_ids) <= set(staged)
    assert result["counts"].inserted == 2


def test_crash_mid_extract_keeps_the_watermark_and_the_next_run_recovers(pipeline):
    sandbox, sf, qb, conn = pipeline

    class CrashAfterFirstPage:
        def bulk_query_pages(self, soql, **kwargs):
            for number, page in enumerate(sf.bulk_query_pages(soql, **kwargs)):
                if number == 1:
                    raise ConnectionError("connection dropped mid-extract")
                yield page

    with pytest.raises(ConnectionError):
        _sf(OPPORTUNITY, CrashAfterFirstPage(), conn)
    assert watermark.get(conn, "salesforce", "Opportunity") is None
    partial = len(_staged(conn, "sf_opportunity"))
    assert 0 < partial < len(sandbox.sf.records["Opportunity"])  # the committed page stays

    result = _sf(OPPORTUNITY, sf, conn)
    assert set(_staged(conn, "sf_opportunity")) == set(sandbox.sf.records["Opportunity"])
    assert result["counts"].inserted == len(sandbox.sf.records["Opportunity"]) - partial


def test_bad_credentials_fail_at_start_naming_the_setting(db_url, sandbox_factory, monkeypatch):
    from ledgerlink.db import ConfigurationError
    from ledgerlink.orchestrate import check_credentials

    sandbox_factory(profile="tiny", seed=3)
    monkeypatch.setenv("LEDGERLINK_SF_CLIENT_SECRET", "wrong-secret-value")
    with pytest.raises(ConfigurationError) as err:
        check_credentials()
    assert "LEDGERLINK_SF_CLIENT_SECRET" in str(err.value)
    assert "wrong-secret-value" not in str(err.value)


def test_accented_names_arrive_intact(pipeline):
    sandbox, sf, qb, conn = pipeline
    account_id = sf.sf.Account.create({"Name": "Müller & Søn Straße GmbH", "BillingCity": "Zürich"})["id"]
    _sf(ACCOUNT, sf, conn)
    row = conn.execute("select name, billing_city from staging.sf_account where id = %s", (account_id,)).fetchone()
    assert row == ("Müller & Søn Straße GmbH", "Zürich")


def test_records_purged_from_the_recycle_bin_are_found_by_the_sweep(pipeline):
    sandbox, sf, qb, conn = pipeline
    _sf(OPPORTUNITY, sf, conn)
    org = sandbox.sf
    victim = next(i for i, r in org.records["Opportunity"].items() if not r["IsDeleted"])
    sf.call(lambda api: api.Opportunity.delete(victim))
    org.empty_recycle_bin("Opportunity")  # deleted and purged between two nightly runs

    _sf(OPPORTUNITY, sf, conn)
    assert _staged(conn, "sf_opportunity")[victim] is False  # queryAll no longer returns it: unseen

    assert sf_extract.sweep_purged(sf, conn, OPPORTUNITY, run_id="sweep", page_size=7) == 1
    staged = _staged(conn, "sf_opportunity")
    assert staged[victim] is True
    assert {i for i, d in staged.items() if not d} == {i for i, r in org.records["Opportunity"].items()
                                                       if not r["IsDeleted"]}
    assert sf_extract.sweep_purged(sf, conn, OPPORTUNITY, run_id="sweep2", page_size=7) == 0


def test_the_nightly_asset_sweeps_for_purged_records_on_the_configured_weekday(pipeline, db_url):
    import dagster as dg

    from assets.extract import extract_assets

    sandbox, sf, qb, conn = pipeline
    asset = next(a for a in extract_assets if a.key == dg.AssetKey(["staging", "sf_opportunity"]))
    instance = dg.DagsterInstance.ephemeral()

    def materialize(day):
        result = dg.materialize([asset], resources=build_resources(), partition_key=day, instance=instance)
        (event,) = result.get_asset_materialization_events()
        return {k: v.value for k, v in event.materialization.metadata.items()}

    assert materialize("2026-11-14")["mode"] == "full"  # a Saturday
    victim = next(i for i, r in sandbox.sf.records["Opportunity"].items() if not r["IsDeleted"])
    sf.call(lambda api: api.Opportunity.delete(victim))
    sandbox.sf.empty_recycle_bin("Opportunity")
    sunday = materialize("2026-11-15")  # the default sweep day
    assert sunday["mode"] == "incremental" and sunday["purged_found_by_sweep"] == 1 and sunday["deleted"] == 1
    assert _staged(conn, "sf_opportunity")[victim] is True
    assert "purged_found_by_sweep" not in materialize("2026-11-16")  # Monday: no sweep


# ---- QBO incremental through CDC ---------------------------------------------------------------


def _customer_row(conn, customer_id):
    return conn.execute(
        "select company_name, _deleted, _extracted_at from staging.qb_customer where id = %s", (customer_id,)
    ).fetchone()


def _invoice_state(conn, invoice_id):
    note = conn.execute("select private_note from staging.qb_invoice where id = %s", (invoice_id,)).fetchone()[0]
    lines = [r[0] for r in conn.execute(
        "select description from staging.qb_invoice_line where parent_id = %s order by line_no", (invoice_id,))]
    return note, lines


def _change_customer_and_invoice(sandbox, qb, tag):
    """Edit one customer and one invoice through python-quickbooks, as a bookkeeper would in QBO."""
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.invoice import Invoice

    customer_id = next(iter(sandbox.qbo.entities["Customer"]))
    customer = Customer.get(customer_id, qb=qb.qb)
    customer.CompanyName = f"Renamed {tag} Ltd"
    customer.save(qb=qb.qb)

    invoice_id = next(i for i, inv in sandbox.qbo.entities["Invoice"].items() if not inv.get("LinkedTxn"))
    invoice = Invoice.get(invoice_id, qb=qb.qb)
    invoice.PrivateNote = f"Reworded {tag}"
    first_sales_line = next(line for line in invoice.Line if line.DetailType == "SalesItemLineDetail")
    first_sales_line.Description = f"Line reworded {tag}"
    invoice.save(qb=qb.qb)
    return customer_id, invoice_id


def test_qbo_incremental_cdc_picks_up_records_changed_through_the_api(pipeline):
    sandbox, sf, qb, conn = pipeline
    assert _qb(CUSTOMER, qb, conn)["mode"] == "full"
    assert _qb(INVOICE, qb, conn)["mode"] == "full"
    marks = {e: watermark.get(conn, "qbo", e) for e in ("Customer", "Invoice")}
    customers_before = _staged(conn, "qb_customer")

    customer_id, invoice_id = _change_customer_and_invoice(sandbox, qb, "by CDC test")
    stamp = sandbox.qbo.entities["Invoice"][invoice_id]["MetaData"]["LastUpdatedTime"]
    assert qbo_extract.parse_qbo_time(stamp) > marks["Invoice"] - timedelta(minutes=10)  # inside what CDC asks for

    result = _qb(CUSTOMER, qb, conn)
    assert result["mode"] == "incremental"
    assert (result["counts"].inserted, result["counts"].updated, result["counts"].deleted) == (0, 1, 0)
    assert _customer_row(conn, customer_id)[:2] == ("Renamed by CDC test Ltd", False)
    assert _staged(conn, "qb_customer") == customers_before  # no row appeared or went

    result = _qb(INVOICE, qb, conn)
    assert result["mode"] == "incremental" and result["counts"].updated == 1
    assert result["counts"].children["qb_invoice_line"] >= 1  # the changed invoice's lines were rewritten
    note, lines = _invoice_state(conn, invoice_id)
    assert note == "Reworded by CDC test" and "Line reworded by CDC test" in lines
    for entity in ("Customer", "Invoice"):
        assert watermark.get(conn, "qbo", entity) > marks[entity]

    # Nothing changed since: CDC re-reads the safety window, but nothing is written.
    customer_row, invoice_state = _customer_row(conn, customer_id), _invoice_state(conn, invoice_id)
    lines_total = conn.execute("select count(*) from staging.qb_invoice_line").fetchone()[0]
    for spec in (CUSTOMER, INVOICE):
        again = _qb(spec, qb, conn)
        assert again["mode"] == "incremental"
        assert (again["counts"].inserted, again["counts"].updated, again["counts"].deleted) == (0, 0, 0)
        assert again["counts"].children == {}
    assert _customer_row(conn, customer_id) == customer_row  # not even _extracted_at moved
    assert _invoice_state(conn, invoice_id) == invoice_state
    assert conn.execute("select count(*) from staging.qb_invoice_line").fetchone()[0] == lines_total


def _backdate_qbo(sandbox, entity, entity_id, stamp):
    """Give an entity an earlier LastUpdatedTime in the emulator, as a slow transaction would have."""
    from sandbox.qbo.clock import format_stamp

    company = sandbox.qbo
    with company.lock:
        company.entities[entity][entity_id]["MetaData"]["LastUpdatedTime"] = format_stamp(stamp)
        company._stamps[entity][entity_id] = stamp


def _ms(value):
    return value.replace(microsecond=value.microsecond // 1000 * 1000)  # QBO stamps in milliseconds


def test_qbo_record_stamped_exactly_at_the_watermark_is_not_lost(pipeline):
    from datetime import UTC, datetime

    from quickbooks.objects.customer import Customer

    sandbox, sf, qb, conn = pipeline
    _qb(CUSTOMER, qb, conn, now=_ms(datetime.now(UTC)))
    mark = watermark.get(conn, "qbo", "Customer")
    assert mark == _ms(mark)  # representable exactly as a QBO stamp
    late_ids = []
    for name, stamp in (("Late At Mark Inc", mark), ("Late In Window Inc", mark - timedelta(seconds=30))):
        customer = Customer()
        customer.DisplayName = name
        late_id = customer.save(qb=qb.qb).Id
        _backdate_qbo(sandbox, "Customer", late_id, stamp)
        late_ids.append(late_id)
    result = _qb(CUSTOMER, qb, conn)
    assert result["mode"] == "incremental" and result["counts"].inserted == 2
    assert set(late_ids) <= set(_staged(conn, "qb_customer"))


def test_a_record_at_the_watermark_arrives_even_with_no_safety_window(pipeline):
    """The boundary itself is inclusive: the safety window must not be what saves this record."""
    from datetime import UTC, datetime

    from quickbooks.objects.customer import Customer

    from sandbox.salesforce import schema

    sandbox, sf, qb, conn = pipeline
    _sf(ACCOUNT, sf, conn)
    mark = watermark.get(conn, "salesforce", "Account")
    late_id = sf.sf.Account.create({"Name": "Exactly At Mark Inc"})["id"]
    record = sandbox.sf.records["Account"][late_id]
    record["SystemModstamp"] = mark
    sandbox.sf._format_all(schema.get("Account"), [record])
    result = _sf(ACCOUNT, sf, conn, safety_window=timedelta(0))
    assert result["counts"].inserted == 1 and late_id in _staged(conn, "sf_account")

    _qb(CUSTOMER, qb, conn, now=_ms(datetime.now(UTC)).replace(microsecond=0))
    mark = watermark.get(conn, "qbo", "Customer")
    customer = Customer()
    customer.DisplayName = "Exactly At Mark Inc"
    late_id = customer.save(qb=qb.qb).Id
    _backdate_qbo(sandbox, "Customer", late_id, mark)
    result = _qb(CUSTOMER, qb, conn, safety_window=timedelta(0))
    assert result["counts"].inserted == 1 and late_id in _staged(conn, "qb_customer")


# ---- failures in the middle of an incremental run ----------------------------------------------


def test_salesforce_crash_mid_incremental_keeps_the_watermark_and_the_next_run_recovers(pipeline):
    sandbox, sf, qb, conn = pipeline
    _sf(OPPORTUNITY, sf, conn)
    mark = watermark.get(conn, "salesforce", "Opportunity")
    live = [i for i, r in sandbox.sf.records["Opportunity"].items() if not r["IsDeleted"]]
    renamed = {opp_id: f"Renamed Mid Crash {n}" for n, opp_id in enumerate(live[:16])}  # > 2 pages of 7
    for opp_id, name in renamed.items():
        sf.sf.Opportunity.update(opp_id, {"Name": name})
    removed = live[16]
    sf.sf.Opportunity.delete(removed)

    class CrashAfterFirstPage:
        def __init__(self):
            self.soql = []

        def bulk_query_pages(self, soql, **kwargs):
            self.soql.append(soql)
            for number, page in enumerate(sf.bulk_query_pages(soql, **kwargs)):
                if number == 1:
                    raise ConnectionError("connection dropped mid-extract")
                yield page

    crashing = CrashAfterFirstPage()
    with pytest.raises(ConnectionError):
        _sf(OPPORTUNITY, crashing, conn)
    assert "WHERE SystemModstamp >=" in crashing.soql[0]  # it was an incremental read that died
    assert watermark.get(conn, "salesforce", "Opportunity") == mark

    def staged_names():
        return dict(conn.execute("select id, name from staging.sf_opportunity where id = any(%s)", (list(renamed),)))

    assert sum(staged_names()[i] == n for i, n in renamed.items()) < len(renamed)  # the crash lost some

    result = _sf(OPPORTUNITY, sf, conn)
    assert result["mode"] == "incremental"
    assert staged_names() == renamed
    assert _staged(conn, "sf_opportunity")[removed] is True
    assert watermark.get(conn, "salesforce", "Opportunity") == max(
        r["SystemModstamp"] for r in sandbox.sf.records["Opportunity"].values()) > mark
    again = _sf(OPPORTUNITY, sf, conn)
    assert (again["counts"].inserted, again["counts"].updated, again["counts"].deleted) == (0, 0, 0)


@pytest.fixture
def faulty_pipeline(db_url, sandbox_factory):
    """Like `pipeline`, with the QBO emulator behind the sandbox's fault injector (idle at first).

    time_scale=60 compresses the client's backoff between retries, so a hard outage fails in
    well under a second instead of ~15 s.
    """
    from sandbox.faults import FaultConfig

    sandbox = sandbox_factory(profile="tiny", seed=3, faults={"qbo": FaultConfig(seed=11)}, time_scale=60.0)
    resources = build_resources(resolve_env=True)
    qb = resources["qbo"].client(db_url)
    qb.connect()
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield sandbox, qb, conn


def test_qbo_outage_mid_incremental_keeps_the_watermark_and_the_next_run_recovers(faulty_pipeline):
    from quickbooks.objects.invoice import Invoice

    from ledgerlink.clients.errors import QboUnavailable

    sandbox, qb, conn = faulty_pipeline
    injector = sandbox.qbo.fault_injector
    _qb(CUSTOMER, qb, conn)
    _qb(INVOICE, qb, conn)
    marks = {e: watermark.get(conn, "qbo", e) for e in ("Customer", "Invoice")}
    customer_id, invoice_id = _change_customer_and_invoice(sandbox, qb, "during outage")
    removed = next(i for i, inv in sandbox.qbo.entities["Invoice"].items()
                   if not inv.get("LinkedTxn") and i != invoice_id)
    Invoice.get(removed, qb=qb.qb).delete(qb=qb.qb)
    before = {"customer": _customer_row(conn, customer_id), "invoice": _invoice_state(conn, invoice_id)}

    injector.config.error_rate = 1.0  # QBO answers every API call with a 500/503 from here on
    for spec in (CUSTOMER, INVOICE):
        with pytest.raises(QboUnavailable):
            _qb(spec, qb, conn)
    assert injector.counts["errors"] >= 2 * qb.max_attempts  # retried, then gave up
    assert {e: watermark.get(conn, "qbo", e) for e in marks} == marks
    assert _customer_row(conn, customer_id) == before["customer"]
    assert _invoice_state(conn, invoice_id) == before["invoice"]
    assert _staged(conn, "qb_invoice")[removed] is False

    injector.config.error_rate = 0.0  # QBO is back
    result = _qb(CUSTOMER, qb, conn)
    assert result["mode"] == "incremental" and result["counts"].updated == 1
    assert _customer_row(conn, customer_id)[0] == "Renamed during outage Ltd"
    result = _qb(INVOICE, qb, conn)
    assert result["mode"] == "incremental"
    assert (result["counts"].updated, result["counts"].deleted) == (1, 1)
    assert _invoice_state(conn, invoice_id)[0] == "Reworded during outage"
    assert _staged(conn, "qb_invoice")[removed] is True
    assert all(watermark.get(conn, "qbo", e) > marks[e] for e in marks)


# ---- full refresh over an existing watermark, and the safety window ----------------------------


def test_full_refresh_over_a_watermark_marks_what_the_source_lost_and_moves_the_watermark(pipeline):
    sandbox, sf, qb, conn = pipeline
    _sf(ACCOUNT, sf, conn)
    mark = watermark.get(conn, "salesforce", "Account")
    org = sandbox.sf
    live = [i for i, r in org.records["Account"].items() if not r["IsDeleted"]]
    gone, changed = live[0], live[1]
    sf.sf.Account.delete(gone)
    org.empty_recycle_bin("Account")  # purged: an incremental read could never see it go
    sf.sf.Account.update(changed, {"Name": "Changed Before Refresh Ltd"})

    result = _sf(ACCOUNT, sf, conn, full_refresh=True)
    assert result["mode"] == "full"
    assert (result["counts"].inserted, result["counts"].updated, result["counts"].deleted) == (0, 1, 1)
    staged = _staged(conn, "sf_account")
    assert staged[gone] is True
    assert {i for i, d in staged.items() if not d} == {i for i, r in org.records["Account"].items()
                                                       if not r["IsDeleted"]}
    assert conn.execute("select name from staging.sf_account where id = %s", (changed,)).fetchone()[0] == \
        "Changed Before Refresh Ltd"
    assert watermark.get(conn, "salesforce", "Account") == org.records["Account"][changed]["SystemModstamp"] > mark

    from quickbooks.objects.invoice import Invoice

    _qb(INVOICE, qb, conn)
    qb_mark = watermark.get(conn, "qbo", "Invoice")
    qb_gone = next(i for i, inv in sandbox.qbo.entities["Invoice"].items() if not inv.get("LinkedTxn"))
    Invoice.get(qb_gone, qb=qb.qb).delete(qb=qb.qb)
    result = _qb(INVOICE, qb, conn, full_refresh=True)
    assert result["mode"] == "full"
    assert (result["counts"].inserted, result["counts"].updated, result["counts"].deleted) == (0, 0, 1)
    staged = _staged(conn, "qb_invoice")
    assert staged[qb_gone] is True
    assert {i for i, d in staged.items() if not d} == set(sandbox.qbo.entities["Invoice"])
    assert watermark.get(conn, "qbo", "Invoice") > qb_mark


def test_the_safety_window_sets_where_the_next_read_starts(pipeline):
    sandbox, sf, qb, conn = pipeline
    _sf(ACCOUNT, sf, conn)
    mark = watermark.get(conn, "salesforce", "Account")
    jobs = sandbox.sf.query_jobs
    for window in (timedelta(0), timedelta(minutes=60)):
        messages = []
        known = set(jobs)
        result = _sf(ACCOUNT, sf, conn, safety_window=window, progress=messages.append)
        since = mark - window
        assert result["mode"] == "incremental"
        assert messages[0] == f"Salesforce Account: incremental extract since {since.isoformat()}"
        (job,) = [jobs[j] for j in jobs if j not in known]  # the SOQL the org received
        assert job.query.endswith(f"WHERE SystemModstamp >= {sf_extract.soql_datetime(since)}")
        assert watermark.get(conn, "salesforce", "Account") == mark  # re-reading the window moves nothing

    # QBO: the CDC changedSince is the stored watermark minus the window (to the second).
    from ledgerlink.clients.qbo import qbo_datetime

    _qb(CUSTOMER, qb, conn)
    for window in (timedelta(0), timedelta(minutes=60)):
        qb_mark = watermark.get(conn, "qbo", "Customer")
        seen = len(sandbox.qbo.request_log)
        _qb(CUSTOMER, qb, conn, safety_window=window)
        (cdc,) = [e for e in sandbox.qbo.request_log[seen:] if e["path"].endswith("/cdc")]
        assert cdc["params"]["changedSince"] == qbo_datetime(qb_mark - window)


# ---- what the Dagster asset reports ------------------------------------------------------------


def test_the_opportunity_asset_reports_what_it_read_and_wrote(pipeline, tmp_path, monkeypatch):
    import math

    import dagster as dg
    import yaml

    from assets.extract import extract_assets

    sandbox, sf, qb, conn = pipeline
    config = tmp_path / "ledgerlink.yaml"
    config.write_text(yaml.safe_dump({"extract": {"bulk_page_size": 7}}))
    monkeypatch.setenv("LEDGERLINK_CONFIG", str(config))
    asset = next(a for a in extract_assets if a.key == dg.AssetKey(["staging", "sf_opportunity"]))
    instance = dg.DagsterInstance.ephemeral()

    def materialize():
        # 2026-11-14 is a Saturday: no purge sweep, so the counts are the extract's alone.
        result = dg.materialize([asset], resources=build_resources(), partition_key="2026-11-14", instance=instance)
        assert result.success
        (event,) = result.get_asset_materialization_events()
        return {k: v.value for k, v in event.materialization.metadata.items()}

    org = sandbox.sf.records["Opportunity"]
    live = {i for i, r in org.items() if not r["IsDeleted"]}
    newest = max(r["SystemModstamp"] for r in org.values())

    first = materialize()
    assert first["mode"] == "full" and first["table"] == "staging.sf_opportunity"
    assert first["rows_read"] == len(org)
    assert (first["inserted"], first["updated"], first["deleted"]) == (len(live), 0, len(org) - len(live))
    assert first["pages"] == math.ceil(len(org) / 7) > 1
    assert first["watermark"] == newest.isoformat()
    assert first["dagster/row_count"] == len(live)
    preview = first["preview"].splitlines()
    assert preview[0] == "| id | deleted | extracted at |" and len(preview) == 2 + 5
    assert {line.split(" | ")[0].lstrip("| ") for line in preview[2:]} <= set(org)
    assert "purged_found_by_sweep" not in first

    second = materialize()
    assert second["mode"] == "incremental"
    assert (second["inserted"], second["updated"], second["deleted"]) == (0, 0, 0)
    assert second["rows_read"] >= 1 and second["pages"] >= 1  # the safety window is re-read
    assert second["watermark"] == first["watermark"]
    assert second["dagster/row_count"] == len(live)
    assert second["preview"] == first["preview"]  # nothing was rewritten


def test_a_field_added_to_a_spec_reaches_every_staged_row_on_the_next_run(pipeline):
    import dataclasses

    sandbox, sf, qb, conn = pipeline
    _sf(ACCOUNT, sf, conn)
    assert "currency_iso_code" not in {r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_name = 'sf_account'")}
    # A data engineer adds one field to the Account entry.
    with_currency = dataclasses.replace(ACCOUNT, fields={**ACCOUNT.fields, "CurrencyIsoCode": "text"})
    said: list[str] = []
    result = _sf(with_currency, sf, conn, progress=said.append)
    assert result["mode"] == "full"
    assert any("new field(s) currency_iso_code" in m for m in said), said
    org = sandbox.sf.records["Account"]
    staged = dict(conn.execute("select id, currency_iso_code from staging.sf_account").fetchall())
    assert staged == {i: r.get("CurrencyIsoCode") for i, r in org.items()}
    assert all(staged.values())
    assert _sf(with_currency, sf, conn)["mode"] == "incremental"  # once only
