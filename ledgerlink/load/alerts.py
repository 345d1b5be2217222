"""What a run leaves for people to look at, as one readable summary, and its Slack delivery.

A run needs attention when it leaves dead letters (records QBO or Salesforce refused), when
blocking data-quality checks stopped the loads, when the Salesforce API budget ran out (records
carried to the next run), or when QBO could not be reached. Each load step stores its counts and
alerts in `sync.load_run`; the Dagster sensor calls `run_summary` and `post_to_slack`.
"""

from __future__ import annotations

import json
import logging
import os

import requests
from psycopg.types.json import Jsonb

from ledgerlink.db import read_sql

log = logging.getLogger(__name__)

SLACK_WEBHOOK_ENV = "LEDGERLINK_SLACK_WEBHOOK_URL"


def record_step(conn, *, run_id: str | None, step: str, partition_key: str | None, counts: dict,
                alerts: list[str]) -> None:
    conn.execute(read_sql("load/record_load_run.sql"), {
        "run_id": run_id, "step": step, "partition_key": partition_key,
        "counts": Jsonb(json.loads(json.dumps(counts, default=str))), "alerts": alerts})


def dead_letter_alerts(conn, run_id: str | None, target: str | None = None) -> list[str]:
    """Dead letters written by this run, and every record given up on that is still unresolved."""
    alerts = []
    rows = conn.execute(read_sql("load/dead_letter_summary.sql"), {"run_id": run_id, "target": target}).fetchall()
    for system, entity, status, count, sample in rows:
        if status == "exhausted":
            alerts.append(f"{count} {system} {entity} record(s) gave up after the maximum attempts and need a "
                          f"person (e.g. {sample}); see sync.dead_letter")
        else:
            alerts.append(f"{count} {system} {entity} record(s) rejected this run, retried next run "
                          f"(e.g. {sample})")
    return alerts


def blocked_check_alerts(conn, run_id: str) -> list[str]:
    rows = conn.execute(read_sql("load/blocked_checks.sql"), {"run_id": run_id}).fetchall()
    return [f"blocking check {suite}.{expectation} failed: {message or 'see the asset check'} "
            "- the loads did not run" for suite, expectation, message in rows]


def run_summary(conn, run_id: str) -> list[str]:
    """Every alert a run raised (empty: nothing needs attention)."""
    alerts: list[str] = []
    for (step_alerts,) in conn.execute("select alerts from sync.load_run where run_id = %s order by id", [run_id]):
        alerts.extend(a for a in step_alerts if a not in alerts)
    alerts.extend(a for a in blocked_check_alerts(conn, run_id) if a not in alerts)
    return alerts


def format_summary(run_id: str, alerts: list[str], header: str | None = None) -> str:
    lines = [header or f"LedgerLink run {run_id} needs attention:"]
    lines += [f"- {a}" for a in alerts]
    return "\n".join(lines)


def post_to_slack(text: str, webhook_url: str | None = None, timeout_s: float = 10.0) -> bool:
    """Post to the Slack incoming webhook; False (logged, never raised) when it fails.

    The webhook URL is a secret: it is never logged or put in an error message.
    """
    url = webhook_url or os.environ.get(SLACK_WEBHOOK_ENV)
    if not url:
        return False
    try:
        resp = requests.post(url, json={"text": text}, timeout=timeout_s)
    except requests.RequestException as exc:
        log.warning("Slack alert not delivered (%s)", type(exc).__name__)
        return False
    if resp.status_code >= 300:
        log.warning("Slack alert not delivered (HTTP %s)", resp.status_code)
        return False
    return True
