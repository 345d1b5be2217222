"""The load assets materialized with the real resources against both emulators, and the alerts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from assets import load as load_assets
from ledgerlink.config import Settings
from ledgerlink.load import alerts
from ledgerlink.load.planner import plan_invoices
from pipelines.resources import build_resources
from tests.load.conftest import extract_qbo, link_truth, load_dataset, qbo_client, tiny_dataset

SCALE = 600
ASSETS = [load_assets.planned_invoices, load_assets.qbo_invoices, load_assets.salesforce_invoice_status,
          load_assets.customer_field_sync]


def materialize(dataset, instance):
    return dg.materialize(ASSETS, resources=build_resources(), partition_key=dataset.as_of.isoformat(),
                          instance=instance, raise_on_error=False)


def metadata(result, key) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture
def slack(monkeypatch):
    """A local stand-in for Slack's incoming webhook: records what is posted to it."""
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(alerts.SLACK_WEBHOOK_ENV, f"http://127.0.0.1:{server.server_port}/hook")
    yield received
    server.shutdown()


def test_nightly_loads_then_a_quiet_second_run(conn, db_url, sandbox_factory, monkeypatch, slack):
    dataset = tiny_dataset()
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE)
    monkeypatch.setenv("LEDGERLINK_QBO_TIME_SCALE", str(SCALE))
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    instance = dg.DagsterInstance.ephemeral()

    first = materialize(dataset, instance)
    assert first.success
    sent = metadata(first, load_assets.QBO_INVOICES)
    assert sent["invoices_created"] > 0 and sent["dead_lettered"] == 0
    planned = metadata(first, load_assets.PLANNED_INVOICES)
    assert planned["invoices_planned"] == sent["invoices_created"]
    assert metadata(first, load_assets.SALESFORCE_STATUS)["opportunities_pushed"] > 0

    # The next night: QBO extracted again, no source changed -> only reads reach either API.
    extract_qbo(conn, qbo_client(sandbox.env, db_url, time_scale=SCALE), entities=(
        "Customer", "Invoice", "Payment", "CreditMemo", "Item", "Term"))
    qbo_log, sf_log = len(sandbox.qbo.request_log), len(sandbox.sf.request_log)
    second = materialize(dataset, instance)
    assert second.success
    assert not [r for r in sandbox.qbo.request_log[qbo_log:] if r["wrote"]]
    assert not [r for r in sandbox.sf.request_log[sf_log:] if r["write"]]
    assert metadata(second, load_assets.QBO_INVOICES)["batches"] == 0

    # Nothing needs attention: the sensor stays quiet.
    context = dg.build_run_status_sensor_context(
        sensor_name="loads_alert_on_success", dagster_instance=instance, dagster_run=second.dagster_run,
        dagster_event=second.get_run_success_event(), resources={"warehouse": build_resources()["warehouse"]})
    assert isinstance(load_assets.loads_alert_on_success(context), dg.SkipReason) and slack == []


def test_alerts_reach_slack(conn, db_url, sandbox_factory, monkeypatch, slack):
    dataset = tiny_dataset()
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE)
    monkeypatch.setenv("LEDGERLINK_QBO_TIME_SCALE", str(SCALE))
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    instance = dg.DagsterInstance.ephemeral()
    # A customer name taken in QBO before the run: that record is refused.
    plan_invoices(conn, Settings(), as_of=dataset.as_of)
    name = conn.execute("select payload ->> 'DisplayName' from sync.outbox where entity = 'Customer'"
                        " order by id limit 1").fetchone()
    if name is None:
        pytest.skip("dataset plans no new customer")
    qbo_client(sandbox.env, db_url, time_scale=SCALE).request("POST", "customer", {"DisplayName": name[0]},
                                                              request_id="taken")
    result = materialize(dataset, instance)
    assert result.success
    sent = metadata(result, load_assets.QBO_INVOICES)
    assert sent["rejected"] == 1 and sent["alert_count"] >= 1

    context = dg.build_run_status_sensor_context(
        sensor_name="loads_alert_on_success", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(), resources={"warehouse": build_resources()["warehouse"]})
    load_assets.loads_alert_on_success(context)
    assert len(slack) == 1
    text = slack[0]["text"]
    assert result.dagster_run.run_id in text and "rejected" in text and "Customer" in text


def test_blocked_checks_and_dead_letters_make_the_summary(conn):
    conn.execute("insert into sync.quality_result (run_id, suite, asset_key, expectation, expectation_type,"
                 " severity, level, blocking, outcome, message) values ('r9', 'planned_invoices',"
                 " 'sync/planned_invoices', 'one_invoice_per_opportunity', 'expect_column_values_to_be_unique',"
                 " 'critical', 'table', true, 'failed', '2 opportunities planned twice')")
    conn.execute("insert into sync.dead_letter (key, target, entity, source_id, error_code, error_message,"
                 " attempts, status, run_id) values ('customer:001X:v1', 'qbo', 'Customer', '001X', '6240',"
                 " 'Duplicate Name Exists Error', 5, 'exhausted', 'r8')")
    summary = alerts.run_summary(conn, "r9")
    assert any("planned_invoices.one_invoice_per_opportunity" in a and "did not run" in a for a in summary)
    alerts.record_step(conn, run_id="r9", step="send", partition_key=None, counts={},
                       alerts=alerts.dead_letter_alerts(conn, "r9"))
    summary = alerts.run_summary(conn, "r9")
    assert any("gave up" in a and "customer:001X:v1" in a for a in summary)
