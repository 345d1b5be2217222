"""Send the outbox to QuickBooks: rate-limited batches of at most 30, crash-safe, record by record.

Order of work in one call of `send_outbox`:

1. Re-send every batch left open by a crashed run, *exactly* as persisted, under its original
   requestid: if QBO had already processed it, QBO replays its first answer instead of
   creating the records again.
2. Phase 1 (customers), then phase 2 (invoices): the items of one batch cannot see each other,
   so an invoice is only sent once the customer it needs exists.

Each batch is claimed and persisted (its items and requestid) in one transaction *before* it is
sent, and its answers recorded in another after. The client waits out 429s, retries 5xx and
dropped connections (safe: the batch carries a requestid) and refreshes an expired token. If
it still cannot get an answer, the batch stays open for the next run and this run stops.

A record QBO rejects is counted against `max_attempts`, noted in `sync.dead_letter` with the
API's code and message, and tried again on a later run (under a new requestid, since the old
one would only replay the rejection); the rest of the batch goes on.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache

import requests
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ledgerlink.clients.errors import QboFault, QboThrottled, QboUnavailable
from ledgerlink.clients.qbo import escape_qbo
from ledgerlink.db import ConfigurationError, connect, read_sql
from ledgerlink.load import keys
from ledgerlink.reconcile.rules import opportunity_ref

log = logging.getLogger(__name__)

BATCH_SIZE = 30
PHASES = (1, 2)
# QBO's DocNumber clash: for our own invoice it means an earlier attempt created it already.
DUPLICATE_DOC_NUMBER = "6140"


class SendAborted(RuntimeError):
    """QBO could not be reached (after the client's retries); open batches wait for the next run."""


@dataclass
class SendResult:
    run_id: str
    batches: int = 0
    replayed_batches: int = 0
    created: dict[str, int] = field(default_factory=dict)  # entity -> records written
    updated: int = 0
    adopted: int = 0  # records found already created (DocNumber) and linked instead
    failed: int = 0  # rejections this run (will be retried)
    dead: int = 0  # rejections that used up max_attempts this run
    waiting: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    aborted: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, n: int = 1, entity: str | None = None) -> None:
        with self._lock:
            if entity is not None:
                self.created[entity] = self.created.get(entity, 0) + n
            else:
                setattr(self, name, getattr(self, name) + n)

    def counts(self) -> dict[str, int]:
        return {
            "batches": self.batches,
            "replayed_batches": self.replayed_batches,
            "customers_created": self.created.get("Customer", 0),
            "invoices_created": self.created.get("Invoice", 0),
            "invoices_updated": self.updated,
            "adopted_existing": self.adopted,
            "rejected": self.failed + self.dead,
            "dead_lettered": self.dead,
            "waiting_on_dependency": len(self.waiting),
        }


def _fault(item_response: dict) -> tuple[str, str, str]:
    fault = item_response.get("Fault") or {}
    errors = fault.get("Error") or [{}]
    first = errors[0] if errors else {}
    message = first.get("Message") or "QBO rejected the record"
    # Several errors can come back together; keep them all in the detail.
    details = "; ".join(filter(None, (e.get("Detail") or e.get("Message") for e in errors)))
    element = first.get("element")
    if element:
        message = f"{message} (element {element})"
    return str(first.get("code") or fault.get("type") or "unknown"), message, details


class Sender:
    """Drains `sync.outbox` through one QBO client. One instance per run."""

    def __init__(self, database_url: str, client, *, max_attempts: int = 5, run_id: str | None = None,
                 skip_opportunities: set[str] | None = None, workers: int = 1, batch_size: int = BATCH_SIZE,
                 skip_customers: set[str] | None = None):
        if not 1 <= batch_size <= BATCH_SIZE:
            raise ValueError(f"batch_size must be 1-{BATCH_SIZE}")
        self.database_url = database_url
        self.client = client
        self.max_attempts = max_attempts
        self.run_id = run_id or f"adhoc-{uuid.uuid4()}"
        # None: whatever the planned-invoice checks hold back right now (sync.quarantine).
        self.skip_opportunities = None if skip_opportunities is None else sorted(skip_opportunities)
        # None: the customer writes (outbox keys) the planned-customer checks hold back right now.
        self.skip_customers = None if skip_customers is None else sorted(skip_customers)
        self.workers = max(1, workers)
        self.batch_size = batch_size
        self.result = SendResult(self.run_id)
        self._abort = threading.Event()

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> SendResult:
        with connect(self.database_url, autocommit=True) as lock_conn:
            # One sender per warehouse at a time (Dagster's qbo_api pool should already ensure it).
            if not lock_conn.execute("select pg_try_advisory_lock(hashtext('ledgerlink.outbox.send'))").fetchone()[0]:
                raise SendAborted("another sender is draining the outbox; try again when it has finished")
            try:
                return self._run()
            finally:
                lock_conn.execute("select pg_advisory_unlock(hashtext('ledgerlink.outbox.send'))")

    def _run(self) -> SendResult:
        with connect(self.database_url, autocommit=True) as conn:
            self._load_holds(conn)
            try:
                for batch in _fetch(conn, read_sql("load/open_batches.sql")):
                    log.info("Re-sending open batch %s (requestid %s) left by an earlier run",
                             batch["id"], batch["request_id"])
                    self._send_and_record(conn, batch["id"], batch["request_id"], batch["items"])
                    self.result.count("replayed_batches")
            except SendAborted as exc:
                self.result.aborted = str(exc)
                return self.result
        for phase in PHASES:
            if self._abort.is_set():
                break
            if self.workers == 1:
                self._drain(phase)
            else:
                with ThreadPoolExecutor(self.workers, thread_name_prefix=f"qbo-send-p{phase}") as pool:
                    for future in [pool.submit(self._drain, phase) for _ in range(self.workers)]:
                        future.result()
        with connect(self.database_url, autocommit=True) as conn:
            self.result.waiting = _fetch(conn, read_sql("load/waiting_rows.sql"))
        return self.result

    def _drain(self, phase: int) -> None:
        with connect(self.database_url, autocommit=True) as conn:
            while not self._abort.is_set():
                claimed = self._claim(conn, phase)
                if claimed is None:
                    return
                try:
                    self._send_and_record(conn, *claimed)
                except SendAborted as exc:
                    self.result.aborted = str(exc)
                    self._abort.set()
                    return

    def _load_holds(self, conn) -> None:
        if self.skip_opportunities is None:
            self.skip_opportunities = sorted(quarantined_opportunities(conn))
        if self.skip_customers is None:
            self.skip_customers = sorted(quarantined_customer_writes(conn))

    def _claim(self, conn, phase: int) -> tuple[int, str, list[dict]] | None:
        """Pick the next rows and persist them as an open batch, in one transaction."""
        self._load_holds(conn)
        with conn.transaction():
            rows = _fetch(conn, _sql("claim_batch"), {
                "phase": phase, "run_id": self.run_id, "skip_opportunities": self.skip_opportunities,
                "skip_keys": self.skip_customers, "limit": self.batch_size})
            if not rows:
                return None
            items, members = [], []
            for row in rows:
                payload = row["payload"]
                if row["dependency_qb_id"] and (payload.get("CustomerRef") or {}).get("value") is None:
                    payload = {**payload, "CustomerRef": {"value": row["dependency_qb_id"]}}
                row["payload"] = payload
                item = {"bId": keys.bid(row["id"]), "operation": row["operation"], row["entity"]: payload}
                items.append(item)
                members.append((row["idempotency_key"], row["attempts"]))
            request_id = keys.batch_request_id(members)
            batch_id = conn.execute(
                "insert into sync.outbox_batch (request_id, phase, items, run_id) values (%s, %s, %s, %s)"
                " returning id", [request_id, phase, Jsonb(items), self.run_id]).fetchone()[0]
            conn.execute(_sql("mark_in_flight"), {
                "batch_id": batch_id, "run_id": self.run_id, "ids": [r["id"] for r in rows],
                "bids": [i["bId"] for i in items], "payloads": [Jsonb(r["payload"]) for r in rows]})
        return batch_id, request_id, items

    def _send_and_record(self, conn, batch_id: int, request_id: str, items: list[dict]) -> None:
        try:
            responses = self.client.batch(items, request_id)
        except (QboThrottled, QboUnavailable, requests.ConnectionError, requests.Timeout) as exc:
            raise SendAborted(
                f"QBO did not answer batch {batch_id} (requestid {request_id}) after retries: {exc}. "
                "The batch stays open and is re-sent under the same requestid next run."
            ) from None
        except ConfigurationError:
            raise
        except QboFault as exc:
            # The batch request itself was refused (not one record): every item takes the fault.
            fault = {"Fault": {"Error": [{"code": exc.code, "Message": exc.message, "Detail": exc.detail,
                                          "element": exc.element}]}}
            responses = [{"bId": item["bId"], **fault} for item in items]
        self.result.count("batches")
        by_bid = {str(r.get("bId")): r for r in responses}
        adopt: list[tuple[dict, dict]] = []
        done: list[tuple[int, dict]] = []
        rejected: list[tuple[int, dict]] = []
        for item in items:
            outbox_id = _outbox_id(item["bId"])
            response = by_bid.get(item["bId"])
            entity = next(k for k in item if k not in ("bId", "operation"))
            if response is not None and isinstance(response.get(entity), dict):
                done.append((outbox_id, response[entity]))
                continue
            if response is None:
                response = {"Fault": {"Error": [{"code": "NO_RESPONSE",
                                                 "Message": "QBO's batch answer had no item for this bId"}]}}
            code, _, _ = _fault(response)
            if code == DUPLICATE_DOC_NUMBER and entity == "Invoice" and item["operation"] == "create":
                adopt.append((item, response))
            else:
                rejected.append((outbox_id, response))
        adopted: list[tuple[int, dict]] = []
        for item, response in adopt:
            found = self._find_own_invoice(item["Invoice"])
            if found is not None:
                adopted.append((_outbox_id(item["bId"]), found))
            else:
                rejected.append((_outbox_id(item["bId"]), response))
        with conn.transaction():
            self._record_successes(conn, done, request_id)
            self._record_successes(conn, adopted, request_id, adopted=True)
            for outbox_id, response in rejected:
                self._record_failure(conn, outbox_id, response)
            conn.execute("update sync.outbox_batch set status = 'done', completed_at = now() where id = %s",
                         [batch_id])

    # -- recording --------------------------------------------------------------------------

    def _record_successes(self, conn, done: list[tuple[int, dict]], request_id: str,
                          adopted: bool = False) -> None:
        """Mark a batch's accepted records sent and link them, in a handful of statements."""
        if not done:
            return
        entities = {outbox_id: entity for outbox_id, entity in done}
        rows = conn.execute(_sql("record_success"), {
            "ids": list(entities), "qb_ids": [str(e["Id"]) for e in entities.values()]}).fetchall()
        conn.execute(_sql("resolve_dead_letter"), {"keys": [r[1] for r in rows]})
        invoices = [r for r in rows if r[2] == "Invoice" and r[3] == "create"]
        customers = [r for r in rows if r[2] == "Customer" and r[3] == "create"]
        if invoices:
            conn.execute(_sql("insert_invoice_xref"), {
                "request_id": request_id, "opps": [r[4] for r in invoices],
                "qb_ids": [str(entities[r[0]]["Id"]) for r in invoices], "keys": [r[1] for r in invoices],
                "outbox_ids": [r[0] for r in invoices], "entities": [Jsonb(entities[r[0]]) for r in invoices]})
        if customers:
            conn.execute(_sql("insert_customer_xref"), {
                "accounts": [r[4] for r in customers], "qb_ids": [str(entities[r[0]]["Id"]) for r in customers]})
        with self.result._lock:
            for _id, _key, entity, operation, _source in rows:
                if operation == "update":
                    self.result.updated += 1
                elif adopted:
                    self.result.adopted += 1
                else:
                    self.result.created[entity] = self.result.created.get(entity, 0) + 1

    def _record_failure(self, conn, outbox_id: int, response: dict) -> None:
        code, message, detail = _fault(response)
        key, entity, source_id, payload_hash, attempts, status = conn.execute(
            _sql("record_failure"),
            {"id": outbox_id, "code": code, "message": message, "max_attempts": self.max_attempts}).fetchone()
        conn.execute(_sql("upsert_dead_letter"), {
            "key": key, "target": "qbo", "entity": entity, "source_id": source_id, "outbox_id": outbox_id,
            "payload_hash": payload_hash, "code": code, "message": message, "detail": detail,
            "attempts": attempts, "status": "exhausted" if status == "dead" else "retrying", "run_id": self.run_id})
        self.result.count("dead" if status == "dead" else "failed")
        with self.result._lock:
            self.result.failures.append({"key": key, "code": code, "message": message, "detail": detail,
                                         "attempts": attempts, "status": status})
        log.warning("QBO rejected %s (attempt %d, %s): %s %s - %s", key, attempts, status, code, message, detail)

    def _find_own_invoice(self, invoice: dict) -> dict | None:
        """DocNumber taken: the invoice holding it, if it is ours (it references the same opportunity).

        This is how a replay whose requestid QBO no longer remembers ends without a duplicate.
        """
        opp_id = opportunity_ref(invoice.get("PrivateNote"))
        if not opp_id:
            return None
        try:
            doc = escape_qbo(invoice["DocNumber"])
            hits = self.client.query(f"SELECT * FROM Invoice WHERE DocNumber = '{doc}'").get("Invoice", [])
        except (QboFault, requests.RequestException) as exc:
            log.warning("Could not look up invoice %s after a DocNumber clash: %s", invoice.get("DocNumber"), exc)
            return None
        found = next((h for h in hits if opportunity_ref(h.get("PrivateNote")) == opp_id), None)
        if found is not None:
            log.info("Invoice %s already existed in QBO as %s; linked, not created again",
                     invoice.get("DocNumber"), found.get("Id"))
        return found


QUARANTINE_TABLE = "sync.planned_invoices"
CUSTOMER_QUARANTINE_TABLE = "sync.planned_customers"


def quarantined_opportunities(conn) -> set[str]:
    """Opportunities whose planned invoice the data-quality checks hold back (never sent)."""
    from ledgerlink.quality.quarantine import open_quarantine_ids

    return open_quarantine_ids(conn, QUARANTINE_TABLE)


def quarantined_customer_writes(conn) -> set[str]:
    """Outbox keys of customer writes the planned-customer checks hold back (never sent).

    An invoice that needs a held customer creation is not sent either: it waits on the
    creation (`depends_on`), which stays unsent while held.
    """
    from ledgerlink.quality.quarantine import open_quarantine_ids

    return open_quarantine_ids(conn, CUSTOMER_QUARANTINE_TABLE)


@cache
def _sql(name: str) -> str:
    return read_sql(f"load/{name}.sql")


def _outbox_id(bid: str) -> int:
    return keys.outbox_id_from_bid(bid)


def _fetch(conn, statement: str, params: dict | None = None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(statement, params or {})
        return cur.fetchall()


def send_outbox(database_url: str, client, *, max_attempts: int, run_id: str | None = None,
                skip_opportunities: set[str] | None = None, workers: int = 1,
                batch_size: int = BATCH_SIZE, skip_customers: set[str] | None = None) -> SendResult:
    """Send every sendable outbox row; see the module docstring.

    `skip_opportunities`: opportunity ids whose invoices must wait; by default those the
    planned-invoice checks quarantined (`open_quarantine_ids(conn, "sync.planned_invoices")`).
    `skip_customers`: outbox keys of customer writes that must wait; by default those the
    planned-customer checks quarantined (`"sync.planned_customers"`).
    """
    return Sender(database_url, client, max_attempts=max_attempts, run_id=run_id,
                  skip_opportunities=skip_opportunities, workers=workers, batch_size=batch_size,
                  skip_customers=skip_customers).run()
