"""Customer records synchronised both ways, each field from the system that owns it.

`settings.loads.field_ownership` names the owner of each field group (by default Salesforce
owns name, billing address, email and phone; QBO owns payment terms and tax settings). A value
flows from its owner to the other side. When the losing side holds a value that differs both
from the owner's and from the value last seen in sync (`sync.customer_field_state`), somebody
changed it there: the change is written to `sync.field_conflict`, then overwritten. Nothing is
ever merged.

A pair whose account or customer a data-quality check holds back (`sync.open_quarantine`,
tables `staging.sf_account` / `staging.qb_customer`) is not synchronised at all while held
(`sql/load/field_sync_pairs.sql`): its values are in doubt, so they are neither copied nor
taken as the agreed reference.

QBO writes go through the outbox (sparse Customer updates, one per customer and change);
Salesforce writes through the same push as the invoice status (`sf_push`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ledgerlink.config import FieldOwnership
from ledgerlink.db import read_sql
from ledgerlink.load import keys
from ledgerlink.load.planner import PHASE_CUSTOMERS
from ledgerlink.load.sf_status import Update

log = logging.getLogger(__name__)

FIELDS = ("name", "billing_address", "email", "phone", "payment_terms", "tax_settings")
# Salesforce Account fields for what only QBO has a standard field for. If the org has no such
# field, that group flows nowhere on the Salesforce side (a warning says which field to add).
SF_PAYMENT_TERMS = "QBO_Payment_Terms__c"
SF_TAXABLE = "QBO_Taxable__c"
STATE_OBJECT = "Account.customer_fields"
SF_ADDRESS = ("BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry")


def _text(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _email(value) -> str | None:
    text = _text(value)
    return text.lower() if text else None


def _address(street, city, state, postal, country) -> dict | None:
    lines = [ln.strip() for ln in str(street or "").splitlines() if ln.strip()]
    value = {"street": "\n".join(lines) or None, "city": _text(city), "state": _text(state),
             "postal_code": _text(postal), "country": _text(country)}
    return value if any(value.values()) else None


def _bool_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "true" if str(value).lower() in ("true", "1", "yes") else "false"


@dataclass
class Pair:
    sf_account_id: str
    qb_customer_id: str
    sync_token: str | None
    sf: dict  # field group -> normalised value (missing key: Salesforce has no such field)
    qb: dict


@dataclass
class FieldSyncPlan:
    qbo_updates: list[tuple[str, dict, list[str]]] = field(default_factory=list)  # (customer, body, groups)
    sf_updates: list[Update] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)
    in_sync: int = 0
    warnings: list[str] = field(default_factory=list)


def _overlay_qbo(row: dict, sent: list[dict]) -> dict:
    """Staging's customer with the updates QBO accepted after it was extracted laid over it."""
    row = dict(row)
    for update in sent:
        body = update["payload"]
        if update["sent_at"] <= row["qb_extracted_at"]:
            continue
        if "DisplayName" in body:
            row["display_name"] = body["DisplayName"]
        if "BillAddr" in body:
            addr = body["BillAddr"] or {}
            row.update(bill_line1=addr.get("Line1"), bill_line2=addr.get("Line2"), bill_city=addr.get("City"),
                       bill_region=addr.get("CountrySubDivisionCode"), bill_postal_code=addr.get("PostalCode"),
                       bill_country=addr.get("Country"))
        if "PrimaryEmailAddr" in body:
            row["qb_email"] = (body["PrimaryEmailAddr"] or {}).get("Address")
        if "PrimaryPhone" in body:
            row["qb_phone"] = (body["PrimaryPhone"] or {}).get("FreeFormNumber")
        if "SalesTermRef" in body:
            row["sales_term_id"] = (body["SalesTermRef"] or {}).get("value")
        if "Taxable" in body:
            row["taxable"] = body["Taxable"]
    return row


def _overlay_sf(row: dict, pushed: dict | None) -> dict:
    """Staging's account with the fields we wrote after it was extracted laid over it."""
    if not pushed or pushed["pushed_at"] <= row["sf_extracted_at"]:
        return row
    row = dict(row)
    body = pushed["payload"]
    mapping = {"Name": "name", "Phone": "phone", "BillingStreet": "billing_street", "BillingCity": "billing_city",
               "BillingState": "billing_state", "BillingPostalCode": "billing_postal_code",
               "BillingCountry": "billing_country", SF_PAYMENT_TERMS: "qbo_payment_terms",
               SF_TAXABLE: "qbo_taxable"}
    for sf_field, column in mapping.items():
        if sf_field in body:
            row[column] = body[sf_field]
    return row


def load_pairs(conn, term_names: dict[str, str], sf_fields: set[str]) -> list[Pair]:
    """Every linked pair, both sides normalised; `sf_fields` are the org's Account fields."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(read_sql("load/field_sync_pairs.sql")).fetchall()
        sent: dict[str, list[dict]] = {}
        for r in cur.execute(read_sql("load/sent_customer_updates.sql")).fetchall():
            sent.setdefault(r["qb_customer_id"], []).append(r)
        pushed = {r["record_id"]: r for r in cur.execute(read_sql("load/pushed_account_fields.sql"),
                                                           {"object": STATE_OBJECT}).fetchall()}
    pairs = []
    for row in rows:
        row = _overlay_sf(_overlay_qbo(row, sent.get(row["qb_customer_id"], [])), pushed.get(row["sf_account_id"]))
        sf = {
            "name": _text(row["name"]),
            "billing_address": _address(row["billing_street"], row["billing_city"], row["billing_state"],
                                        row["billing_postal_code"], row["billing_country"]),
            "email": _email(row["email"]),
            "phone": _text(row["phone"]),
        }
        if SF_PAYMENT_TERMS in sf_fields:
            sf["payment_terms"] = _text(row["qbo_payment_terms"])
        if SF_TAXABLE in sf_fields:
            sf["tax_settings"] = _bool_text(row["qbo_taxable"])
        street = "\n".join(p for p in (row["bill_line1"], row["bill_line2"]) if p)
        qb = {
            "name": _text(row["display_name"]),
            "billing_address": _address(street, row["bill_city"], row["bill_region"], row["bill_postal_code"],
                                        row["bill_country"]),
            "email": _email(row["qb_email"]),
            "phone": _text(row["qb_phone"]),
            "payment_terms": term_names.get(row["sales_term_id"]) if row["sales_term_id"] else None,
            # No Taxable from QBO means not taxable: what a Salesforce checkbox shows for it.
            "tax_settings": _bool_text(row["taxable"]) or "false",
        }
        pairs.append(Pair(row["sf_account_id"], row["qb_customer_id"], row["sync_token"], sf, qb))
    return pairs


def _qbo_body(group: str, value, term_ids: dict[str, str]) -> dict | None:
    if group == "name":
        return {"DisplayName": value, "CompanyName": (value or "")[:100]} if value else None
    if group == "billing_address":
        value = value or {}
        addr = {}
        for i, line in enumerate((value.get("street") or "").splitlines()[:5], start=1):
            addr[f"Line{i}"] = line
        for key, qkey in (("city", "City"), ("state", "CountrySubDivisionCode"), ("postal_code", "PostalCode"),
                          ("country", "Country")):
            if value.get(key):
                addr[qkey] = value[key]
        return {"BillAddr": addr}
    if group == "email":
        return {"PrimaryEmailAddr": {"Address": value or ""}}
    if group == "phone":
        return {"PrimaryPhone": {"FreeFormNumber": value or ""}}
    if group == "payment_terms":
        term_id = term_ids.get((value or "").casefold())
        return {"SalesTermRef": {"value": term_id}} if term_id else None
    if group == "tax_settings":
        return {"Taxable": value == "true"} if value is not None else None
    return None


def _sf_fields(group: str, value, sf_fields: set[str]) -> dict | None:
    if group == "name":
        return {"Name": value} if value else None
    if group == "billing_address":
        value = value or {}
        return {"BillingStreet": value.get("street"), "BillingCity": value.get("city"),
                "BillingState": value.get("state"), "BillingPostalCode": value.get("postal_code"),
                "BillingCountry": value.get("country")}
    if group == "phone":
        return {"Phone": value}
    if group == "payment_terms" and SF_PAYMENT_TERMS in sf_fields:
        return {SF_PAYMENT_TERMS: value}
    if group == "tax_settings" and SF_TAXABLE in sf_fields:
        return {SF_TAXABLE: value == "true"}
    return None  # no Salesforce field to hold it (email lives on Contacts)


def plan_field_sync(pairs: list[Pair], ownership: FieldOwnership, state: dict[tuple[str, str, str], object],
                    *, term_ids: dict[str, str], sf_fields: set[str]) -> FieldSyncPlan:
    """Decide, per pair and field group, what flows where and which changes are conflicts.

    `state` holds the value each field had when both sides last agreed. Pure: no I/O.
    """
    plan = FieldSyncPlan()
    warned: set[str] = set()
    for pair in pairs:
        to_qbo: dict = {}
        to_qbo_groups: list[str] = []
        to_sf: dict = {}
        for group in FIELDS:
            owner = getattr(ownership, group)
            if group not in pair.sf and owner == "qbo":
                if _sf_fields(group, pair.qb.get(group), sf_fields) is None:
                    if group not in warned:
                        warned.add(group)
                        target = {"payment_terms": SF_PAYMENT_TERMS, "tax_settings": SF_TAXABLE}.get(group)
                        plan.warnings.append(
                            f"{group} is owned by QBO but the Salesforce Account has no field for it"
                            + (f" (create {target} to receive it)" if target else "") + "; not synchronised")
                    continue
            sf_value = pair.sf.get(group)
            qb_value = pair.qb.get(group)
            last = state.get((pair.sf_account_id, pair.qb_customer_id, group))
            if group in pair.sf and sf_value == qb_value:
                plan.in_sync += 1
                continue
            owner_value, loser_value = (sf_value, qb_value) if owner == "salesforce" else (qb_value, sf_value)
            loser_known = group in pair.sf or owner == "salesforce"
            if owner == "salesforce" and owner_value is None:
                continue  # nothing to copy (never blank a QBO value because Salesforce has none)
            if loser_known and loser_value is not None and loser_value != last:
                plan.conflicts.append({
                    "account": pair.sf_account_id, "customer": pair.qb_customer_id, "field": group, "owner": owner,
                    "owner_value": owner_value, "losing_value": loser_value, "last": last})
            if owner == "salesforce":
                body = _qbo_body(group, owner_value, term_ids)
                if body:
                    to_qbo.update(body)
                    to_qbo_groups.append(group)
            else:
                fields = _sf_fields(group, owner_value, sf_fields)
                if fields:
                    to_sf.update(fields)
        if to_qbo:
            plan.qbo_updates.append((pair.qb_customer_id, {"Id": pair.qb_customer_id,
                                                           "SyncToken": pair.sync_token or "0", "sparse": True,
                                                           **to_qbo}, to_qbo_groups))
        if to_sf:
            plan.sf_updates.append(Update("Account", pair.sf_account_id, to_sf, state_object=STATE_OBJECT))
    return plan


@dataclass
class FieldSyncResult:
    pairs: int = 0
    in_sync: int = 0
    conflicts: int = 0
    qbo_updates_planned: int = 0
    sf_updates_planned: int = 0
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict:
        return {"pairs": self.pairs, "fields_in_sync": self.in_sync, "conflicts_recorded": self.conflicts,
                "qbo_customer_updates_planned": self.qbo_updates_planned,
                "salesforce_account_updates_planned": self.sf_updates_planned}


def prepare_field_sync(conn, ownership: FieldOwnership, *, run_id: str | None,
                       sf_fields: set[str]) -> tuple[FieldSyncResult, list[Update]]:
    """Plan the sync, record conflicts and agreed values, and put the QBO updates in the outbox.

    Returns the Salesforce updates for `sf_push.push_updates`; the caller drains the outbox.
    """
    result = FieldSyncResult()
    with conn.transaction():
        terms = conn.execute("select id, name from staging.qb_term where not _deleted").fetchall()
        term_names = {tid: name for tid, name in terms}
        term_ids = {name.casefold(): tid for tid, name in terms if name}
        pairs = load_pairs(conn, term_names, sf_fields)
        state = {(a, c, f): v for a, c, f, v in conn.execute(read_sql("load/field_state.sql")).fetchall()}
        plan = plan_field_sync(pairs, ownership, state, term_ids=term_ids, sf_fields=sf_fields)
        result.pairs, result.in_sync, result.warnings = len(pairs), plan.in_sync, plan.warnings
        # Values both sides agree on now become the reference for spotting the next change.
        for pair in pairs:
            for group in FIELDS:
                if group in pair.sf and pair.sf[group] == pair.qb.get(group):
                    conn.execute(read_sql("load/upsert_field_state.sql"), {
                        "account": pair.sf_account_id, "customer": pair.qb_customer_id, "field": group,
                        "value": Jsonb(pair.sf[group])})
        for c in plan.conflicts:
            conn.execute(read_sql("load/insert_field_conflict.sql"), {
                **c, "owner_value": Jsonb(c["owner_value"]), "losing_value": Jsonb(c["losing_value"]),
                "last": Jsonb(c["last"]), "run_id": run_id})
            log.warning("Field conflict on %s/%s %s: %s owns %r, the other side had %r (last in sync %r); "
                        "overwritten", c["account"], c["customer"], c["field"], c["owner"], c["owner_value"],
                        c["losing_value"], c["last"])
        result.conflicts = len(plan.conflicts)
        # Forgotten, or the overwrite would match the last push and look already done.
        overwritten = sorted({c["account"] for c in plan.conflicts if c["owner"] == "qbo"})
        if overwritten:
            conn.execute(read_sql("load/forget_pushed.sql"), {"object": STATE_OBJECT, "ids": overwritten})
        for customer_id, body, _groups in plan.qbo_updates:
            content = {k: v for k, v in body.items() if k not in ("SyncToken",)}
            key = keys.customer_update_key(customer_id, body["SyncToken"], keys.payload_hash(content))
            conn.execute(read_sql("load/upsert_outbox.sql"), {
                "key": key, "entity": "Customer",
                "operation": "update", "phase": PHASE_CUSTOMERS, "source_object": "Account",
                "source_id": next(p.sf_account_id for p in pairs if p.qb_customer_id == customer_id),
                "depends_on": None, "payload": Jsonb(body), "payload_hash": keys.payload_hash(body),
                "flags": [], "status": "pending", "hold_reason": None, "run_id": run_id, "partition_key": None})
        result.qbo_updates_planned = len(plan.qbo_updates)
        result.sf_updates_planned = len(plan.sf_updates)
    return result, plan.sf_updates


def salesforce_account_fields(client) -> set[str]:
    """Field names of the org's Account (one describe call)."""
    described = client.call(lambda sf: sf.Account.describe())
    return {f["name"] for f in described.get("fields", [])}

