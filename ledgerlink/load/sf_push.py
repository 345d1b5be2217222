"""Write changed Salesforce fields: sObject Collections for small sets, Bulk API 2.0 for large.

Only records whose payload differs from what we last wrote (`sync.sf_push_state`) are sent.
A daily budget guard stops before `salesforce_budget_share` of the org's remaining API
requests is spent; whatever is left is carried to the next run (it stays "changed").
A record Salesforce refuses goes to `sync.dead_letter` and is retried on later runs until
`max_attempts`, then left alone until its payload changes.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb
from simple_salesforce.exceptions import SalesforceError

from ledgerlink.clients.errors import SalesforceBudgetExhausted
from ledgerlink.db import read_sql
from ledgerlink.load import keys
from ledgerlink.load.sf_status import Update

log = logging.getLogger(__name__)

COLLECTION_SIZE = 200  # sObject Collections maximum per call
# A Bulk API 2.0 ingest job costs create + upload + close + a few polls + job info + results.
BULK_JOB_CALLS = 10
BULK_NULL = "#N/A"  # Bulk API 2.0: an empty cell is ignored on update; #N/A sets null


@dataclass
class PushResult:
    desired: int = 0
    changed: int = 0
    pushed: dict[str, int] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    failed: int = 0
    dead: int = 0
    skipped_exhausted: int = 0
    carried: int = 0
    budget: int | None = None
    remaining_before: int | None = None
    calls: int = 0
    budget_exhausted: bool = False
    failures: list[dict] = field(default_factory=list)

    def counts(self) -> dict:
        return {
            "salesforce_records_desired": self.desired,
            "salesforce_records_changed": self.changed,
            "opportunities_pushed": self.pushed.get("Opportunity", 0),
            "accounts_pushed": self.pushed.get("Account", 0),
            "salesforce_rejected": self.failed + self.dead,
            "salesforce_dead_lettered": self.dead,
            "salesforce_carried_to_next_run": self.carried,
            "salesforce_api_budget": self.budget,
            "salesforce_api_calls": self.calls,
        }


def dead_letter_key(obj: str, record_id: str) -> str:
    return f"salesforce:{obj}:{record_id}"


def changed_updates(conn, updates: list[Update]) -> tuple[list[Update], int]:
    """Updates whose payload differs from the last one pushed, minus records given up on."""
    state = {(o, r): h for o, r, h in conn.execute(read_sql("load/push_state.sql")).fetchall()}
    exhausted = dict(conn.execute(read_sql("load/sf_exhausted.sql")).fetchall())
    out, skipped = [], 0
    for u in updates:
        digest = keys.payload_hash(u.fields)
        if state.get((u.state_key, u.record_id)) == digest:
            continue
        if exhausted.get(dead_letter_key(u.state_key, u.record_id)) == digest:
            skipped += 1
            continue
        out.append(u)
    return out, skipped


class RunBudget:
    """The Salesforce API requests a run may still spend.

    `share` of the org's remaining daily requests, taken when the run's first Salesforce write
    step starts and shared with its later steps through `sync.salesforce_run_budget` (without a
    run id, the budget is this step's alone). Spending is counted by our own calls and by the
    org's `Sforce-Limit-Info` usage, whichever is higher.
    """

    def __init__(self, client, share: float, conn=None, run_id: str | None = None):
        self.client = client
        self.conn, self.run_id = conn, run_id
        remaining, _maximum = client.remaining_api_requests()
        # The /limits call itself was one request.
        self.remaining_before, self.allowed = remaining, max(0, int(remaining * share) - 1)
        self.spent_earlier = 0
        self.calls = 0
        if conn is not None and run_id is not None:
            remaining_before, allowed, spent, created = conn.execute(
                read_sql("load/claim_salesforce_budget.sql"),
                {"run_id": run_id, "remaining": self.remaining_before, "allowed": self.allowed}).fetchone()
            self.remaining_before, self.allowed, self.spent_earlier = remaining_before, allowed, spent
            if not created:
                self.calls = 1  # this step's /limits call comes out of the run's budget too
        usage = client.api_usage
        self.start_used = usage[0] if usage else None

    @property
    def spent(self) -> int:
        """Requests this step has spent."""
        usage = self.client.api_usage
        measured = usage[0] - self.start_used if usage and self.start_used is not None else 0
        return max(self.calls, measured)

    def allows(self, cost: int) -> bool:
        return self.spent_earlier + self.spent + cost <= self.allowed

    def record(self) -> None:
        """Add this step's spending to the run's budget."""
        if self.conn is not None and self.run_id is not None:
            self.conn.execute(read_sql("load/spend_salesforce_budget.sql"), {"run_id": self.run_id, "calls": self.spent})


def push_updates(conn, client, updates: list[Update], *, bulk_threshold: int, budget_share: float,
                 max_attempts: int, run_id: str | None = None, bulk_wait_s: float = 1.0) -> PushResult:
    """Send the changed updates; record what was written. `conn` is autocommit."""
    result = PushResult(desired=len(updates))
    changed, result.skipped_exhausted = changed_updates(conn, updates)
    result.changed = len(changed)
    if not changed:
        return result
    budget = RunBudget(client, budget_share, conn, run_id)
    result.budget, result.remaining_before = budget.allowed, budget.remaining_before
    try:
        _push_changed(conn, client, changed, budget, result, bulk_threshold, max_attempts, run_id, bulk_wait_s)
    finally:
        budget.record()
    return result


def _push_changed(conn, client, changed: list[Update], budget: RunBudget, result: PushResult, bulk_threshold: int,
                  max_attempts: int, run_id: str | None, bulk_wait_s: float) -> None:
    by_object: dict[str, list[Update]] = defaultdict(list)
    for u in changed:
        by_object[u.object].append(u)
    carried: list[Update] = []
    for obj in ("Opportunity", "Account"):
        group = by_object.get(obj, [])
        if not group:
            continue
        if result.budget_exhausted:
            carried.extend(group)
            continue
        use_bulk = len(group) > bulk_threshold
        result.modes[obj] = "bulk" if use_bulk else "collections"
        try:
            if use_bulk and budget.allows(BULK_JOB_CALLS):
                _push_bulk(conn, client, obj, group, budget, result, max_attempts, run_id, bulk_wait_s)
            else:
                if use_bulk:
                    result.modes[obj] = "collections (budget too small for a bulk job)"
                _push_collections(conn, client, obj, group, budget, result, max_attempts, run_id, carried)
        except SalesforceBudgetExhausted as exc:
            log.warning("%s", exc)
            result.budget_exhausted = True
            done = {u.record_id for u in group if _pushed(conn, u)}
            carried.extend(u for u in group if u.record_id not in done)
    result.carried = len(carried)
    result.calls = budget.spent
    if carried:
        result.budget_exhausted = True
        log.warning("Salesforce API budget for this run (%d of %d remaining requests) is spent; %d records "
                    "carried to the next run", budget.allowed, budget.remaining_before, len(carried))


def _pushed(conn, u: Update) -> bool:
    row = conn.execute("select payload_hash from sync.sf_push_state where object = %s and record_id = %s",
                       [u.state_key, u.record_id]).fetchone()
    return bool(row and row[0] == keys.payload_hash(u.fields))


def _record_ok(conn, u: Update, run_id: str | None, result: PushResult) -> None:
    conn.execute(read_sql("load/upsert_push_state.sql"), {
        "object": u.state_key, "record_id": u.record_id, "payload_hash": keys.payload_hash(u.fields),
        "payload": Jsonb(u.fields), "run_id": run_id})
    conn.execute(read_sql("load/resolve_dead_letter.sql"), {"keys": [dead_letter_key(u.state_key, u.record_id)]})
    result.pushed[u.state_key] = result.pushed.get(u.state_key, 0) + 1


def _record_error(conn, u: Update, code: str, message: str, max_attempts: int, run_id: str | None,
                  result: PushResult) -> None:
    attempts, status = conn.execute(read_sql("load/sf_dead_letter.sql"), {
        "key": dead_letter_key(u.state_key, u.record_id), "entity": u.object, "source_id": u.record_id,
        "payload_hash": keys.payload_hash(u.fields), "code": code, "message": message, "detail": None,
        "max_attempts": max_attempts, "run_id": run_id}).fetchone()
    if status == "exhausted":
        result.dead += 1
    else:
        result.failed += 1
    result.failures.append({"object": u.object, "id": u.record_id, "code": code, "message": message,
                            "attempts": attempts, "status": status})
    log.warning("Salesforce refused %s %s (attempt %d): %s %s", u.object, u.record_id, attempts, code, message)


def _push_collections(conn, client, obj, group, budget, result, max_attempts, run_id, carried) -> None:
    for start in range(0, len(group), COLLECTION_SIZE):
        chunk = group[start:start + COLLECTION_SIZE]
        if not budget.allows(1):
            result.budget_exhausted = True
            carried.extend(group[start:])
            return
        records = [{"attributes": {"type": obj}, "id": u.record_id, **u.fields} for u in chunk]
        budget.calls += 1
        answers = client.call(lambda sf, body=records: sf.restful(
            "composite/sobjects", method="PATCH", json={"allOrNone": False, "records": body}))
        with conn.transaction():
            for u, answer in zip(chunk, answers or [], strict=False):
                if answer.get("success"):
                    _record_ok(conn, u, run_id, result)
                else:
                    errors = answer.get("errors") or [{}]
                    _record_error(conn, u, errors[0].get("statusCode", "UNKNOWN"),
                                  "; ".join(_with_fields(e.get("message", ""), e.get("fields") or [])
                                            for e in errors), max_attempts, run_id, result)


def _with_fields(message: str, fields) -> str:
    """Salesforce's message with the fields it names, so the dead letter says which field."""
    # Bulk results end the field list with " --" (and say "--" alone when there is none).
    fields = [f.strip().removesuffix("--").strip() for f in fields]
    fields = [f for f in fields if f]
    return f"{message} (field: {', '.join(fields)})" if fields else message


def _bulk_value(value) -> str:
    if value is None:
        return BULK_NULL
    return str(value)


def _push_bulk(conn, client, obj, group, budget, result, max_attempts, run_id, wait_s) -> None:
    rows = [{"Id": u.record_id, **{k: _bulk_value(v) for k, v in u.fields.items()}} for u in group]
    budget.calls += BULK_JOB_CALLS
    try:
        summaries = client.call(lambda sf: getattr(sf.bulk2, obj).update(records=rows, wait=wait_s))
        failed: dict[str, str] = {}
        for summary in summaries:
            if int(summary.get("numberRecordsFailed", 0)):
                text = client.call(lambda sf, job=summary["job_id"]: getattr(sf.bulk2, obj).get_failed_records(job))
                for row in csv.DictReader(io.StringIO(text)):
                    failed[row.get("sf__Id") or row.get("Id")] = row.get("sf__Error") or "failed"
    except SalesforceError as exc:
        # The job as a whole failed (no per-record answer): nothing recorded, all retried next run.
        log.warning("Bulk API 2.0 update of %d %s records failed: %s", len(group), obj, exc)
        result.failures.append({"object": obj, "id": None, "code": type(exc).__name__, "message": str(exc)[:500]})
        return
    with conn.transaction():
        for u in group:
            if u.record_id in failed:
                # Bulk API 2.0 writes sf__Error as "CODE:message:field,field" ("--" when no field).
                code, _, rest = failed[u.record_id].partition(":")
                message, _, fields = rest.rpartition(":") if rest.count(":") else (rest, "", "")
                _record_error(conn, u, code or "BULK_ERROR",
                              _with_fields(message or rest or failed[u.record_id], fields.split(",")),
                              max_attempts, run_id, result)
            else:
                _record_ok(conn, u, run_id, result)
