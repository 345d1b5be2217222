"""The four load steps of a nightly run, as plain functions the Dagster assets wrap.

Each returns a `StepReport`: counts for metadata, alerts for people (also stored in
`sync.load_run` for the Slack sensor), and small preview tables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from ledgerlink.config import Settings
from ledgerlink.db import connect
from ledgerlink.load import alerts as alert_mod
from ledgerlink.load.field_sync import prepare_field_sync, salesforce_account_fields
from ledgerlink.load.planner import plan_invoices
from ledgerlink.load.sender import Sender, quarantined_opportunities
from ledgerlink.load.sf_push import push_updates
from ledgerlink.load.sf_status import PRODUCTION_APP, desired_updates

log = logging.getLogger(__name__)

@dataclass
class StepReport:
    step: str
    counts: dict = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    previews: dict[str, list[dict]] = field(default_factory=dict)
    failed: str | None = None  # the step could not finish (the run should fail)


def _finish(conn, report: StepReport, run_id: str | None, partition_key: str | None) -> StepReport:
    alert_mod.record_step(conn, run_id=run_id, step=report.step, partition_key=partition_key,
                          counts=report.counts, alerts=report.alerts)
    for alert in report.alerts:
        log.warning("%s: %s", report.step, alert)
    return report


def plan_step(database_url: str, settings: Settings, *, as_of: date, run_id: str | None,
              partition_key: str | None = None) -> StepReport:
    report = StepReport("plan")
    with connect(database_url, autocommit=True) as conn:
        result = plan_invoices(conn, settings, as_of=as_of, run_id=run_id, partition_key=partition_key)
        report.counts = result.counts()
        report.previews["planned"] = [
            {"opportunity": r.source_id, "doc_number": r.payload.get("DocNumber"),
             "customer": (r.payload.get("CustomerRef") or {}).get("value") or r.depends_on,
             "currency": (r.payload.get("CurrencyRef") or {}).get("value"),
             "total": sum(line.get("Amount", 0) for line in r.payload.get("Line", [])),
             "flags": ", ".join(r.flags)}
            for r in result.invoices if not r.hold_reason][:20]
        report.previews["held"] = [{"key": r.key, "reason": r.hold_reason} for r in result.held][:20]
        report.previews["drift"] = [{"opportunity": d.sf_opportunity_id, "invoice": d.qb_invoice_id,
                                     "field": d.field, "salesforce": d.sf_value, "qbo": d.qb_value}
                                    for d in result.drift][:20]
        return _finish(conn, report, run_id, partition_key)


def send_step(database_url: str, client, settings: Settings, *, run_id: str | None,
              partition_key: str | None = None, workers: int = 1) -> StepReport:
    report = StepReport("send")
    with connect(database_url, autocommit=True) as conn:
        skip = quarantined_opportunities(conn)
    sender = Sender(database_url, client, max_attempts=settings.loads.max_attempts, run_id=run_id,
                    skip_opportunities=skip, workers=workers)
    result = sender.run()
    report.counts = {**result.counts(), "quarantined_skipped": len(skip), **client.metadata()}
    report.previews["rejected"] = result.failures[:20]
    report.previews["waiting"] = result.waiting[:20]
    with connect(database_url, autocommit=True) as conn:
        if result.aborted:
            report.failed = result.aborted
            report.alerts.append(f"QBO could not be reached: {result.aborted}")
        report.alerts.extend(alert_mod.dead_letter_alerts(conn, result.run_id, "qbo"))
        return _finish(conn, report, run_id, partition_key)


def status_push_step(database_url: str, client, settings: Settings, *, as_of: date, run_id: str | None,
                     partition_key: str | None = None, app_url: str = PRODUCTION_APP) -> StepReport:
    report = StepReport("salesforce_push")
    loads = settings.loads
    with connect(database_url, autocommit=True) as conn:
        updates = desired_updates(conn, as_of=as_of, app_url=app_url)
        result = push_updates(conn, client, updates, bulk_threshold=loads.bulk_threshold,
                              budget_share=loads.salesforce_budget_share, max_attempts=loads.max_attempts,
                              run_id=run_id)
        report.counts = {**result.counts(), "modes": result.modes, **client.metadata()}
        report.previews["rejected"] = result.failures[:20]
        if result.budget_exhausted:
            report.alerts.append(
                f"Salesforce API budget spent ({loads.salesforce_budget_share:.0%} of "
                f"{result.remaining_before} remaining requests); {result.carried} record(s) carried to the next run")
        report.alerts.extend(alert_mod.dead_letter_alerts(conn, run_id, "salesforce"))
        return _finish(conn, report, run_id, partition_key)


def field_sync_step(database_url: str, qbo_client, sf_client, settings: Settings, *, run_id: str | None,
                    partition_key: str | None = None) -> StepReport:
    report = StepReport("customer_sync")
    loads = settings.loads
    sf_fields = salesforce_account_fields(sf_client)
    with connect(database_url, autocommit=True) as conn:
        prepared, sf_updates = prepare_field_sync(conn, loads.field_ownership, run_id=run_id, sf_fields=sf_fields)
    checked = _check_planned_customer_writes(database_url, run_id)
    if checked.blocks:
        failing = ", ".join(o.rule.name for o in checked.failures(checked.severity))
        report.failed = f"the planned_customers check blocks the QBO customer updates ({failing})"
        report.alerts.append(report.failed)
        with connect(database_url, autocommit=True) as conn:
            return _finish(conn, report, run_id, partition_key)  # recorded and alerted like any step
    send = Sender(database_url, qbo_client, max_attempts=loads.max_attempts, run_id=run_id).run()
    with connect(database_url, autocommit=True) as conn:
        pushed = push_updates(conn, sf_client, sf_updates, bulk_threshold=loads.bulk_threshold,
                              budget_share=loads.salesforce_budget_share, max_attempts=loads.max_attempts,
                              run_id=run_id)
        report.counts = {**prepared.counts(), "qbo_customers_updated": send.updated,
                         "salesforce_accounts_updated": pushed.pushed.get("Account.customer_fields", 0),
                         "salesforce_carried_to_next_run": pushed.carried}
        report.previews["conflicts"] = [dict(zip(("account", "customer", "field", "owner", "owner_value",
                                                  "losing_value"), row, strict=True))
                                        for row in conn.execute(
                                            "select sf_account_id, qb_customer_id, field, owner, owner_value::text,"
                                            " losing_value::text from sync.field_conflict where run_id is not"
                                            " distinct from %s order by id limit 20", [run_id]).fetchall()]
        report.counts["warnings"] = prepared.warnings
        for warning in prepared.warnings:
            log.warning("customer field sync: %s", warning)
        if send.aborted:
            report.failed = send.aborted
            report.alerts.append(f"QBO could not be reached: {send.aborted}")
        if pushed.budget_exhausted:
            report.alerts.append(f"Salesforce API budget spent; {pushed.carried} account update(s) carried")
        report.alerts.extend(alert_mod.dead_letter_alerts(conn, run_id))
        return _finish(conn, report, run_id, partition_key)


def _check_planned_customer_writes(database_url: str, run_id: str | None):
    """Run the planned_customers suite over the customer updates the field sync just planned.

    Its asset check ran earlier, beside the invoice plan, before these updates existed; without
    this a rename onto a name QBO already has would go out and come back as error 6240.
    """
    from ledgerlink.quality.gate import run_suite  # Great Expectations: imported only when used
    from ledgerlink.quality.suites import suite_by_name

    return run_suite(database_url, suite_by_name("planned_customers"), run_id=f"{run_id or 'adhoc'}:field-sync")
