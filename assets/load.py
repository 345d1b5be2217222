"""Load assets: plan QBO writes, send them, push status back to Salesforce, sync customer fields.

Thin wiring around `ledgerlink.load.steps`. The plan only writes to Postgres (the outbox), so the
`planned_invoices` and `planned_customers` data-quality suites (blocking checks from
assets/quality.py, attached to this asset by their `meta.asset`) run between planning and sending. API-writing assets sit in the `qbo_api` / `salesforce_api` pools so two
runs never share one rate limit. A run that leaves dead letters, blocked checks, a spent API
budget or an unreachable QBO says so in its logs and metadata, and the sensors below post the
summary to Slack when `LEDGERLINK_SLACK_WEBHOOK_URL` is set.
"""

from datetime import date

import dagster as dg

from ledgerlink.load import alerts as alert_mod
from ledgerlink.load import steps
from ledgerlink.load.sf_status import PRODUCTION_APP, SANDBOX_APP
from pipelines.partitions import daily_partitions
from pipelines.resources import PostgresResource, QboResource, SalesforceResource, SettingsResource

PLANNED_INVOICES = dg.AssetKey(["sync", "planned_invoices"])
QBO_INVOICES = dg.AssetKey("qbo_invoices")
SALESFORCE_STATUS = dg.AssetKey("salesforce_invoice_status")
CUSTOMER_SYNC = dg.AssetKey("customer_field_sync")
LOAD_ASSETS = (PLANNED_INVOICES, QBO_INVOICES, SALESFORCE_STATUS, CUSTOMER_SYNC)


def _staging(*tables: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["staging", t]) for t in tables]


def _markdown(rows: list[dict], limit: int = 20) -> str:
    if not rows:
        return "_none_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows[:limit]:
        cells = [str(row.get(c, "")).replace("|", "\\|").replace("\n", " ")[:120] for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _metadata(report: steps.StepReport) -> dict:
    metadata: dict = {}
    for name, value in report.counts.items():
        if isinstance(value, bool) or value is None:
            metadata[name] = str(value)
        elif isinstance(value, int):
            metadata[name] = dg.MetadataValue.int(value)
        elif isinstance(value, dict | list):
            metadata[name] = dg.MetadataValue.json(value)
        else:
            metadata[name] = str(value)
    for name, rows in report.previews.items():
        metadata[f"preview_{name}"] = dg.MetadataValue.md(_markdown(rows))
    metadata["alerts"] = dg.MetadataValue.md("\n".join(f"- {a}" for a in report.alerts) or "_none_")
    metadata["alert_count"] = dg.MetadataValue.int(len(report.alerts))
    return metadata


def _result(context: dg.AssetExecutionContext, report: steps.StepReport) -> dg.MaterializeResult:
    for alert in report.alerts:
        context.log.warning(alert)
    if report.failed:
        raise dg.Failure(description=report.failed, metadata=_metadata(report))
    return dg.MaterializeResult(metadata=_metadata(report))


def _as_of(context: dg.AssetExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


@dg.asset(
    key=PLANNED_INVOICES,
    group_name="loads",
    partitions_def=daily_partitions,
    kinds={"postgres"},
    deps=[
        *_staging("sf_opportunity", "sf_opportunity_line_item", "sf_product2", "sf_account", "sf_contact",
                  "qb_item", "qb_term", "qb_invoice", "qb_customer"),
        dg.AssetKey("customer_matches"),
    ],
    description="Closed Won opportunities without an invoice, planned as QBO customer and invoice writes "
    "in sync.outbox (one transaction, deterministic idempotency keys). Nothing is sent here.",
)
def planned_invoices(context: dg.AssetExecutionContext, warehouse: PostgresResource,
                     settings: SettingsResource) -> dg.MaterializeResult:
    report = steps.plan_step(warehouse.database_url, settings.settings, as_of=_as_of(context),
                             run_id=context.run.run_id, partition_key=context.partition_key)
    return _result(context, report)


@dg.asset(
    key=QBO_INVOICES,
    group_name="loads",
    partitions_def=daily_partitions,
    kinds={"quickbooks"},
    pool="qbo_api",
    deps=[PLANNED_INVOICES],
    description="The outbox sent to QBO in batches of up to 30 under the realm's rate limiter: customers "
    "first, then invoices. Crash-safe (persisted batches, same requestid on replay); rejected records "
    "go to sync.dead_letter.",
)
def qbo_invoices(context: dg.AssetExecutionContext, warehouse: PostgresResource, settings: SettingsResource,
                 qbo: QboResource) -> dg.MaterializeResult:
    client = qbo.client(warehouse.database_url)
    client.connect()
    report = steps.send_step(warehouse.database_url, client, settings.settings, run_id=context.run.run_id,
                             partition_key=context.partition_key)
    return _result(context, report)


def _app_url(qbo: QboResource) -> str:
    return SANDBOX_APP if qbo.environment == "sandbox" else PRODUCTION_APP


@dg.asset(
    key=SALESFORCE_STATUS,
    group_name="loads",
    partitions_def=daily_partitions,
    kinds={"salesforce"},
    pool="salesforce_api",
    deps=[QBO_INVOICES, *_staging("qb_invoice", "qb_payment", "qb_credit_memo", "qb_customer", "sf_opportunity",
                                  "sf_account")],
    description="Invoice id, number, link, status, amount paid, balance, last payment, days outstanding "
    "and aging bucket on each Opportunity; customer id, open and overdue balance on each Account. Only "
    "changed records, within the daily API budget share.",
)
def salesforce_invoice_status(context: dg.AssetExecutionContext, warehouse: PostgresResource,
                              settings: SettingsResource, salesforce: SalesforceResource,
                              qbo: QboResource) -> dg.MaterializeResult:
    client = salesforce.client()
    client.connect()
    report = steps.status_push_step(warehouse.database_url, client, settings.settings, as_of=_as_of(context),
                                    run_id=context.run.run_id, partition_key=context.partition_key,
                                    app_url=_app_url(qbo))
    return _result(context, report)


@dg.asset(
    key=CUSTOMER_SYNC,
    group_name="loads",
    partitions_def=daily_partitions,
    kinds={"salesforce", "quickbooks"},
    pool="qbo_api",
    deps=[QBO_INVOICES, SALESFORCE_STATUS, dg.AssetKey("customer_matches"),
          *_staging("sf_account", "sf_contact", "qb_customer", "qb_term")],
    description="Customer fields both ways, each from its owner (settings loads.field_ownership); a change "
    "on the losing side is recorded in sync.field_conflict and overwritten.",
)
def customer_field_sync(context: dg.AssetExecutionContext, warehouse: PostgresResource,
                        settings: SettingsResource, qbo: QboResource,
                        salesforce: SalesforceResource) -> dg.MaterializeResult:
    qbo_client = qbo.client(warehouse.database_url)
    qbo_client.connect()
    sf_client = salesforce.client()
    sf_client.connect()
    report = steps.field_sync_step(warehouse.database_url, qbo_client, sf_client, settings.settings,
                                   run_id=context.run.run_id, partition_key=context.partition_key)
    return _result(context, report)


# ---- checks ---------------------------------------------------------------------------------


@dg.asset_check(asset=QBO_INVOICES, name="outbox_drained",
                description="After the send nothing sendable is left in the outbox (only rows waiting on a "
                "customer, quarantined, held, or rejected and due for retry next run).")
def outbox_drained(warehouse: PostgresResource) -> dg.AssetCheckResult:
    from ledgerlink.db import read_sql

    with warehouse.connect() as conn:
        skip = steps.quarantined_opportunities(conn)
        left = conn.execute(read_sql("load/sendable_left.sql"), {"skip": sorted(skip)}).fetchall()
    return dg.AssetCheckResult(
        passed=not left, severity=dg.AssetCheckSeverity.WARN,
        metadata={"sendable_left": dg.MetadataValue.int(len(left)),
                  "examples": dg.MetadataValue.md(_markdown([{"key": k, "status": s} for k, s in left]))})


@dg.asset_check(asset=QBO_INVOICES, name="no_exhausted_dead_letters",
                description="No record has used up its attempts (those need a person: see sync.dead_letter).")
def no_exhausted_dead_letters(warehouse: PostgresResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        rows = conn.execute("select key, error_code, error_message from sync.dead_letter"
                            " where status = 'exhausted' order by last_failed_at desc").fetchall()
    return dg.AssetCheckResult(
        passed=not rows, severity=dg.AssetCheckSeverity.WARN,
        metadata={"exhausted": dg.MetadataValue.int(len(rows)),
                  "examples": dg.MetadataValue.md(_markdown([{"key": k, "code": c, "message": m}
                                                             for k, c, m in rows]))})


# ---- alerts ---------------------------------------------------------------------------------


def _alert(context, warehouse: PostgresResource, header: str | None = None):
    run_id = context.dagster_run.run_id
    with warehouse.connect() as conn:
        summary = alert_mod.run_summary(conn, run_id)
    if header is None and not summary:
        return dg.SkipReason(f"run {run_id}: nothing needs attention")
    text = alert_mod.format_summary(run_id, summary or ["see the run's logs"], header)
    context.log.info(text)
    if alert_mod.post_to_slack(text):
        return None
    return dg.SkipReason("summary logged; Slack not configured or not reachable "
                         f"(set {alert_mod.SLACK_WEBHOOK_ENV})")


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, name="loads_alert_on_success",
                      default_status=dg.DefaultSensorStatus.RUNNING,
                      description="Posts a finished run's dead letters, spent API budget or other alerts to Slack.")
def loads_alert_on_success(context: dg.RunStatusSensorContext, warehouse: PostgresResource):
    return _alert(context, warehouse)


@dg.run_failure_sensor(name="loads_alert_on_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Posts a failed run's reason (blocked checks, QBO unreachable, ...) to Slack.")
def loads_alert_on_failure(context: dg.RunFailureSensorContext, warehouse: PostgresResource):
    reason = context.failure_event.message if context.failure_event else "run failed"
    return _alert(context, warehouse, header=f"LedgerLink run {context.dagster_run.run_id} failed: {reason}")


defs = dg.Definitions(
    assets=[planned_invoices, qbo_invoices, salesforce_invoice_status, customer_field_sync],
    asset_checks=[outbox_drained, no_exhausted_dead_letters],
    sensors=[loads_alert_on_success, loads_alert_on_failure],
)
