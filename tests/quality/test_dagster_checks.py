"""The suites as Dagster asset checks: a failed blocking check stops what is downstream, a
row-level failure only holds its records back and the rest loads.

The staging assets here are stand-ins (the rows are inserted directly); the checks are the real
ones from `assets/quality.py`; the two downstream assets are tiny test-only loaders.
"""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from assets.quality import quality_checks, suite_check
from ledgerlink.quality.quarantine import open_quarantine_ids
from ledgerlink.quality.suites import load_suites, suite_by_name
from pipelines.resources import PostgresResource
from tests.quality.data import seed


def _stub(table: str) -> dg.AssetsDefinition:
    @dg.asset(key=["staging", table], group_name="extract")
    def _extract() -> None:
        """Stand-in: the test inserted the rows."""

    return _extract


def _graph(loaded: dict):
    @dg.asset(deps=[dg.AssetKey(["staging", "sf_opportunity"])], group_name="loads")
    def plan_invoices(warehouse: PostgresResource) -> None:
        with warehouse.connect() as conn:
            held = open_quarantine_ids(conn, "staging.sf_opportunity")
            won = [r[0] for r in conn.execute("select id from staging.sf_opportunity where is_won order by id")]
        loaded["invoices"] = [i for i in won if i not in held]

    @dg.asset(deps=[dg.AssetKey(["staging", "qb_invoice"])], group_name="loads")
    def push_invoice_status() -> None:
        loaded["status"] = True

    names = ("sf_opportunity", "qb_invoice", "sf_account")
    return [*(_stub(n) for n in names), plan_invoices, push_invoice_status, *(suite_check(suite_by_name(n)) for n in names)]


def _materialize(db_url, loaded):
    return dg.materialize(
        _graph(loaded), resources={"warehouse": PostgresResource(database_url=db_url)}, raise_on_error=False
    )


def _evaluations(result) -> dict:
    return {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}


def test_blocking_failure_stops_downstream_and_row_failures_only_hold_their_records(db_url, conn):
    seed(conn)
    conn.execute("update staging.sf_opportunity set close_date = '2026-01-15' where id = 'o12'")
    conn.execute("update staging.sf_opportunity set currency_iso_code = 'XYZ' where id = 'o2'")  # row-level
    conn.execute("update staging.qb_invoice set customer_id = null where id = '102'")  # blocking

    loaded: dict = {}
    result = _materialize(db_url, loaded)

    checks = _evaluations(result)
    assert not checks["gx_qb_invoice"].passed
    assert checks["gx_qb_invoice"].severity == dg.AssetCheckSeverity.ERROR
    assert not checks["gx_sf_opportunity"].passed
    assert checks["gx_sf_opportunity"].severity == dg.AssetCheckSeverity.WARN
    assert checks["gx_sf_account"].passed

    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "push_invoice_status" not in materialized and "status" not in loaded
    assert "plan_invoices" in materialized
    assert loaded["invoices"] == ["o1", "o12"]  # o2 held back, the rest goes on
    assert not result.success  # the run reports the blocking failure

    meta = checks["gx_sf_opportunity"].metadata
    assert meta["failed"].value == 1 and meta["quarantined_records"].value == 1
    assert "currency_iso_4217" in meta["failures"].value
    assert '"currency_iso_code": "XYZ"' in meta["failing_rows_preview"].value
    invoice_meta = checks["gx_qb_invoice"].metadata
    assert invoice_meta["blocking_failures"].value == 1
    assert "customer_present" in invoice_meta["failures"].value


def test_clean_data_passes_every_check_and_everything_loads(db_url, conn):
    seed(conn)
    conn.execute("update staging.sf_opportunity set close_date = '2026-01-15' where id = 'o12'")
    loaded: dict = {}
    result = _materialize(db_url, loaded)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert loaded == {"invoices": ["o1", "o12", "o2"], "status": True}


def test_one_check_per_suite_in_the_code_location():
    from pipelines.definitions import defs

    check_keys = defs.resolve_asset_graph().asset_check_keys
    specs = {spec.name: spec for check in quality_checks for spec in check.check_specs}
    for suite in load_suites():
        spec = specs[suite.check_name]
        assert spec.asset_key == dg.AssetKey(list(suite.asset_key))
        assert spec.blocking == suite.blocking
        assert dg.AssetCheckKey(spec.asset_key, spec.name) in check_keys


def test_loading_the_checks_does_not_import_great_expectations():
    code = "import sys, assets.quality; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"
