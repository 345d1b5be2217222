"""Plan the QuickBooks writes: Closed Won opportunities without an invoice -> `sync.outbox`.

Everything the run intends to write is decided here and stored in one transaction, with
deterministic idempotency keys. Nothing is sent. An opportunity "already has an invoice"
when a QBO invoice's PrivateNote references it (any invoice, voided or deleted included: a
void is a decision somebody made) or LedgerLink created one (`sync.invoice_xref`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ledgerlink.config import Settings
from ledgerlink.db import read_sql
from ledgerlink.load import keys
from ledgerlink.load.invoices import (
    Account,
    CustomerInfo,
    Item,
    ItemResolver,
    OppLine,
    Opportunity,
    PlannedDoc,
    PlanProblem,
    Term,
    build_customer,
    build_invoice,
    money,
)
from ledgerlink.reconcile.rules import opportunity_ref

log = logging.getLogger(__name__)

PHASE_CUSTOMERS = 1
PHASE_INVOICES = 2
PLANNER_KINDS = ["customer", "invoice", "invoice-update"]


@dataclass
class OutboxRow:
    key: str
    entity: str
    operation: str
    phase: int
    source_object: str
    source_id: str
    payload: dict
    flags: list[str] = field(default_factory=list)
    depends_on: str | None = None
    hold_reason: str | None = None

    @property
    def status(self) -> str:
        return "held" if self.hold_reason else "pending"


@dataclass
class Drift:
    sf_opportunity_id: str
    qb_invoice_id: str
    field: str
    sf_value: str
    qb_value: str


@dataclass
class PlanResult:
    opportunities: int = 0
    already_invoiced: int = 0
    rows: list[OutboxRow] = field(default_factory=list)
    written: int = 0  # rows inserted or changed in the outbox
    withdrawn: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)

    @property
    def invoices(self) -> list[OutboxRow]:
        return [r for r in self.rows if r.entity == "Invoice" and r.operation == "create"]

    @property
    def customers(self) -> list[OutboxRow]:
        return [r for r in self.rows if r.entity == "Customer"]

    @property
    def held(self) -> list[OutboxRow]:
        return [r for r in self.rows if r.hold_reason]

    def counts(self) -> dict[str, int]:
        return {
            "closed_won": self.opportunities,
            "already_invoiced": self.already_invoiced,
            "invoices_planned": sum(1 for r in self.invoices if not r.hold_reason),
            "customers_planned": sum(1 for r in self.customers if not r.hold_reason),
            "updates_planned": sum(1 for r in self.rows if r.operation == "update" and not r.hold_reason),
            "held": len(self.held),
            "flagged": sum(1 for r in self.rows if r.flags),
            "outbox_rows_written": self.written,
            "withdrawn": len(self.withdrawn),
            "drift": len(self.drift),
        }


def _fetch(conn, name: str, params: dict | None = None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(read_sql(f"load/{name}.sql"), params or {})
        return cur.fetchall()


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def load_opportunities(conn, stages: list[str]) -> tuple[list[Opportunity], dict[str, Account]]:
    rows = _fetch(conn, "closed_won_opportunities", {"stages": stages})
    lines: dict[str, list[OppLine]] = defaultdict(list)
    ids = [r["id"] for r in rows]
    for r in _fetch(conn, "opportunity_lines", {"ids": ids}) if ids else []:
        lines[r["opportunity_id"]].append(
            OppLine(r["id"], r["product2_id"], r["product_name"], r["product_code"], _dec(r["quantity"]),
                    _dec(r["unit_price"]), _dec(r["total_price"]), r["service_date"])
        )
    opps, accounts = [], {}
    for r in rows:
        opps.append(Opportunity(r["id"], r["name"], r["account_id"], r["stage_name"], r["close_date"],
                                _dec(r["amount"]), r["currency_iso_code"], tuple(lines.get(r["id"], ()))))
        if r["a_id"]:
            accounts[r["a_id"]] = Account(
                r["a_id"], r["a_name"], r["billing_street"], r["billing_city"], r["billing_state"],
                r["billing_postal_code"], r["billing_country"], r["phone"], r["website"], r["email"])
    return opps, accounts


def linked_invoices(conn) -> dict[str, list[dict]]:
    """Opportunity Id -> QBO invoices (staging) whose PrivateNote references it, lowest Id first."""
    out: dict[str, list[dict]] = defaultdict(list)
    for r in _fetch(conn, "linked_invoices"):
        ref = opportunity_ref(r["private_note"])
        if ref:
            out[ref].append(r)
    for invoices in out.values():
        invoices.sort(key=lambda r: (len(r["id"]), r["id"]))
    return out


def plan_invoices(
    conn,
    settings: Settings,
    *,
    as_of: date,
    run_id: str | None = None,
    partition_key: str | None = None,
) -> PlanResult:
    """Decide every customer and invoice write and store them in `sync.outbox`, atomically."""
    loads = settings.loads
    home = settings.reports.home_currency.upper()
    rates = {k.upper(): Decimal(v) for k, v in settings.reports.exchange_rates.items()}
    result = PlanResult()

    with conn.transaction():
        # One planner at a time; the sender's claims lock rows, so they interleave safely.
        conn.execute("select pg_advisory_xact_lock(hashtext('ledgerlink.outbox.plan'))")
        opps, accounts = load_opportunities(conn, loads.closed_won_stages)
        result.opportunities = len(opps)
        linked = linked_invoices(conn)
        xref_invoices = {r["sf_opportunity_id"]: r for r in _fetch_sql(conn, "select * from sync.invoice_xref")}
        item_rows = _fetch(conn, "qb_items")
        items = [Item(r["id"], r["name"], r["sku"], r["active"]) for r in item_rows]
        held_items = {r["id"] for r in item_rows if r["held"]}
        terms = [Term(r["id"], r["name"], r["due_days"]) for r in _fetch(conn, "qb_terms") if r["active"]]
        customers = {r["id"]: r for r in _fetch(conn, "qb_customers") if r["id"]}
        links: dict[str, str] = {}
        for r in _fetch(conn, "customer_links"):
            links.setdefault(r["sf_account_id"], r["qb_customer_id"])
        in_review = {r["sf_account_id"] for r in _fetch(conn, "accounts_in_review")}
        match_status = {r["sf_account_id"]: r for r in _fetch(conn, "match_status")}
        for account_id, status in match_status.items():
            if status["status"] == "pending_review":
                in_review.add(account_id)
            elif status["status"] == "linked" and status["qb_customer_id"]:
                links.setdefault(account_id, status["qb_customer_id"])
        clusters = {a: s["sf_cluster_id"] for a, s in match_status.items() if s["sf_cluster_id"]}

        resolver = HoldingItemResolver(loads.item_mapping, items, held_items)
        terms_by_id = {t.id: t for t in terms}
        default_term = next((t for t in terms if t.name.strip().casefold() == loads.default_term.strip().casefold()), None)

        to_invoice: list[Opportunity] = []
        invoiced: list[tuple[Opportunity, dict | None]] = []
        for opp in opps:
            if opp.id in xref_invoices or opp.id in linked:
                staged = linked.get(opp.id)
                invoiced.append((opp, staged[0] if staged else None))
            else:
                to_invoice.append(opp)
        result.already_invoiced = len(invoiced)

        customer_rows: dict[str, OutboxRow] = {}
        for opp in to_invoice:
            result.rows.extend(
                _plan_one(opp, accounts, links, in_review, clusters, customers, customer_rows, resolver,
                          terms_by_id, default_term, home, rates, as_of)
            )
        result.rows = list(customer_rows.values()) + result.rows

        if invoiced:
            result.drift, updates = _drift(conn, invoiced, xref_invoices, links, resolver, terms_by_id,
                                           default_term, home, rates, as_of, loads.update_changed_invoices)
            result.rows.extend(updates)
            _record_drift(conn, result.drift, [o.id for o, _ in invoiced], bool(updates))

        for row in result.rows:
            written = conn.execute(read_sql("load/upsert_outbox.sql"), {
                "key": row.key, "entity": row.entity, "operation": row.operation, "phase": row.phase,
                "source_object": row.source_object, "source_id": row.source_id, "depends_on": row.depends_on,
                "payload": Jsonb(row.payload), "payload_hash": keys.payload_hash(row.payload),
                "flags": row.flags, "status": row.status, "hold_reason": row.hold_reason,
                "run_id": run_id, "partition_key": partition_key,
            }).fetchone()
            result.written += 1 if written else 0
        keep = [r.key for r in result.rows]
        result.withdrawn = [r[0] for r in conn.execute(read_sql("load/withdraw_outbox.sql"),
                                                       {"keep": keep, "kinds": PLANNER_KINDS}).fetchall()]
    log.info("Planned: %s", json.dumps(result.counts()))
    return result


class HoldingItemResolver(ItemResolver):
    """Product2 -> QBO Item, never to an item a data-quality check holds back (`sync.quarantine`).

    A line whose product maps to a held item (by name, code or override) is treated like a
    product with no item: the fallback item, flagged `fallback_item:<product> (QBO item <id> is
    held ...)`. A held fallback item does not exist for the mapping either, so lines needing it
    hold their invoice (`PlanProblem`), as when the fallback item is missing.
    """

    def __init__(self, mapping, items: list[Item], held: set[str]):
        super().__init__(mapping, items)  # every item: what the product would map to
        self.held = set(held)
        self.usable = ItemResolver(mapping, [i for i in items if i.id not in self.held])

    def fallback(self) -> Item:
        item = self.by_name.get(self.mapping.fallback_item.strip().casefold())
        if item is not None and item.id in self.held:
            raise PlanProblem(
                f"fallback item {self.mapping.fallback_item!r} (settings loads.item_mapping.fallback_item) is "
                f"QBO item {item.id}, held by a data-quality check (see sync.open_quarantine)")
        return self.usable.fallback()

    def held_item_for(self, line: OppLine) -> Item | None:
        """The held item the line's product would map to, if any."""
        try:
            item, _ = super().resolve(line)
        except PlanProblem:
            return None  # no item and no usable fallback: not about a held item
        return item if item.id in self.held else None

    def resolve(self, line: OppLine) -> tuple[Item, str | None]:
        held = self.held_item_for(line)
        if held is None:
            return super().resolve(line)
        item, flag = self.usable.resolve(line)
        if item.id == self.fallback().id:
            product = line.product_name or line.product2_id or line.id
            return item, (f"fallback_item:{product} (QBO item {held.id} is held by a data-quality check; "
                          "see sync.open_quarantine)")
        return item, flag


def _fetch_sql(conn, statement: str, params: dict | None = None) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(statement, params or {})
        return cur.fetchall()


def _plan_one(opp, accounts, links, in_review, clusters, customers, customer_rows, resolver, terms_by_id,
              default_term, home, rates, as_of) -> list[OutboxRow]:
    """The invoice row for one opportunity (plus, via customer_rows, the customer it needs).

    Accounts that are duplicates of one company (one matcher cluster) share one new customer,
    keyed by the cluster; it is built from the first of them planned (lowest opportunity Id).
    """
    key = keys.invoice_key(opp.id)

    def held(reason: str, depends_on: str | None = None) -> list[OutboxRow]:
        return [OutboxRow(key, "Invoice", "create", PHASE_INVOICES, "Opportunity", opp.id, {},
                          depends_on=depends_on, hold_reason=reason)]

    account = accounts.get(opp.account_id) if opp.account_id else None
    if account is None:
        return held(f"Opportunity {opp.id}: AccountId {opp.account_id!r} is empty or not a live Account")

    depends_on = None
    customer_id = links.get(account.id)
    if customer_id:
        qb = customers.get(customer_id)
        if qb is not None and (qb["_deleted"] or not qb["active"]):
            return held(f"Opportunity {opp.id}: linked QBO customer {customer_id} is inactive or deleted")
        customer = CustomerInfo(customer_id, qb["currency"] if qb else None, qb["sales_term_id"] if qb else None)
    elif account.id in in_review:
        return held(f"Opportunity {opp.id}: Account {account.id} awaits match review (probably exists in QBO)")
    else:
        group = clusters.get(account.id) or account.id
        depends_on = keys.customer_key(group)
        crow = customer_rows.get(group)
        if crow is None:
            try:
                doc = build_customer(account, currency=opp.currency or home, home_currency=home, term=default_term)
                crow = OutboxRow(depends_on, "Customer", "create", PHASE_CUSTOMERS, "Account", group,
                                 doc.payload, doc.flags)
            except PlanProblem as exc:
                crow = OutboxRow(depends_on, "Customer", "create", PHASE_CUSTOMERS, "Account", group, {},
                                 hold_reason=str(exc))
            customer_rows[group] = crow
        if crow.hold_reason:
            return held(f"Opportunity {opp.id}: its customer cannot be created: {crow.hold_reason}", depends_on)
        currency = (crow.payload.get("CurrencyRef") or {}).get("value") or home
        term_id = (crow.payload.get("SalesTermRef") or {}).get("value")
        customer = CustomerInfo(None, currency, term_id)

    # QBO owns payment terms: the customer's own term, else the configured default.
    term = terms_by_id.get(customer.sales_term_id) if customer.sales_term_id else None
    term = term or default_term
    try:
        doc: PlannedDoc = build_invoice(opp, customer, resolver=resolver, term=term, home_currency=home,
                                        rates=rates, as_of=as_of)
    except PlanProblem as exc:
        return held(str(exc), depends_on)
    return [OutboxRow(key, "Invoice", "create", PHASE_INVOICES, "Opportunity", opp.id, doc.payload,
                      doc.flags, depends_on=depends_on)]


def _drift(conn, invoiced, xref_invoices, links, resolver, terms_by_id, default_term, home, rates, as_of,
           update_enabled) -> tuple[list[Drift], list[OutboxRow]]:
    """Differences between opportunities and the invoices that exist for them."""
    staged_ids = [inv["id"] for _, inv in invoiced if inv is not None]
    lines: dict[str, list[dict]] = defaultdict(list)
    for r in _fetch(conn, "invoice_lines", {"ids": staged_ids}) if staged_ids else []:
        lines[r["parent_id"]].append(r)
    drifts: list[Drift] = []
    updates: list[OutboxRow] = []
    for opp, inv in invoiced:
        if inv is None or inv["_deleted"]:
            continue  # created by us but not extracted yet, or deleted in QBO: nothing to compare
        if any(resolver.held_item_for(line) for line in opp.lines):
            continue  # its item is held by a data-quality check: no mapping to compare with (or rewrite to)
        try:
            doc = build_invoice(opp, CustomerInfo(inv["customer_id"]), resolver=resolver, term=default_term,
                                home_currency=home, rates=rates, as_of=as_of)
        except PlanProblem:
            continue
        found: list[Drift] = []
        total = sum((Decimal(str(line["Amount"])) for line in doc.payload["Line"]), Decimal(0))
        qb_total = Decimal(inv["total_amt"] or 0)
        voided = qb_total == 0 and (inv["balance"] or 0) == 0
        if voided:
            continue
        if abs(total - qb_total) > Decimal("0.01"):
            found.append(Drift(opp.id, inv["id"], "amount", str(money(total)), str(money(qb_total))))
        currency = doc.payload["CurrencyRef"]["value"]
        if inv["currency"] and inv["currency"].upper() != currency:
            found.append(Drift(opp.id, inv["id"], "currency", currency, inv["currency"]))
        want = sorted((line["SalesItemLineDetail"]["ItemRef"]["value"], money(str(line["Amount"])))
                      for line in doc.payload["Line"])
        have = sorted((r["item_id"] or "", money(r["amount"] or 0)) for r in lines.get(inv["id"], []))
        if want != have:
            found.append(Drift(opp.id, inv["id"], "lines", json.dumps([[i, str(a)] for i, a in want]),
                               json.dumps([[i, str(a)] for i, a in have])))
        linked_customer = links.get(opp.account_id or "")
        if linked_customer and inv["customer_id"] and linked_customer != inv["customer_id"]:
            found.append(Drift(opp.id, inv["id"], "customer", linked_customer, inv["customer_id"]))
        drifts.extend(found)

        editable = (
            update_enabled
            and opp.id in xref_invoices
            and xref_invoices[opp.id]["qb_invoice_id"] == inv["id"]
            and Decimal(inv["balance"] or 0) == qb_total  # nothing paid or credited yet
            and any(d.field in ("amount", "lines") for d in found)
            and not any(d.field == "currency" for d in found)
        )
        if editable:
            body = {"Line": doc.payload["Line"], "PrivateNote": doc.payload["PrivateNote"]}
            change_hash = keys.payload_hash(body)
            payload = {"Id": inv["id"], "SyncToken": inv["sync_token"] or "0", "sparse": True, **body}
            updates.append(OutboxRow(keys.invoice_update_key(opp.id, change_hash), "Invoice", "update",
                                     PHASE_INVOICES, "Opportunity", opp.id, payload, doc.flags))
    return drifts, updates


def _record_drift(conn, drifts: list[Drift], checked: list[str], updates_planned: bool) -> None:
    for d in drifts:
        conn.execute(read_sql("load/upsert_drift.sql"), {
            "opp": d.sf_opportunity_id, "invoice": d.qb_invoice_id, "field": d.field,
            "sf_value": d.sf_value, "qb_value": d.qb_value,
            "action": "update_planned" if updates_planned and d.field in ("amount", "lines") else "reported",
        })
    seen = [f"{d.sf_opportunity_id}|{d.qb_invoice_id}|{d.field}" for d in drifts]
    conn.execute(read_sql("load/resolve_drift.sql"), {"checked": checked, "seen": seen})
