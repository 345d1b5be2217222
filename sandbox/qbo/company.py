"""One QBO company (realm) in memory: entities, writes with QBO's side effects, query, batch, CDC.

The HTTP layer (`sandbox.qbo.app`) authenticates, throttles and renders; everything a request
does to company state happens here, under one lock, so test threads may look at `entities`
while the server runs.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox.qbo import errors, query
from sandbox.qbo.clock import Stamper, company_now, format_stamp, parse_instant
from sandbox.qbo.entities import BUILDERS, BY_LOWER, SPECS, EntitySpec, payment_applications
from sandbox.qbo.errors import QboError, qbo_time
from sandbox.qbo.payload import CENT, clean
from sandbox.qbo.throttle import Throttle
from sandbox.qbo.tokens import TokenStore

NAME_FIELDS = {"Customer": "DisplayName", "Item": "Name", "Term": "Name"}
DOC_ENTITIES = ("Invoice", "CreditMemo")
BATCH_MAX_ITEMS = 30
CDC_MAX_OBJECTS = 1000
CDC_MAX_AGE = timedelta(days=30)
REQUESTID_MAX = 50
BATCH_REQUESTID_MAX = 36
BATCH_BID_MAX = 10


def _jsonable(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(body: object) -> bytes:
    return json.dumps(body, default=_jsonable, separators=(",", ":")).encode()


def clone(value: object) -> object:
    """A copy of a stored entity (dicts and lists; every leaf is immutable). Much faster than deepcopy."""
    if type(value) is dict:
        return {k: clone(v) for k, v in value.items()}
    if type(value) is list:
        return [clone(v) for v in value]
    return value


def _normalize_loaded(value: object) -> object:
    """Dataset values to the stored form (a new structure): Decimals for money, ISO strings for dates."""
    if isinstance(value, dict):
        return {k: _normalize_loaded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize_loaded(v) for v in value]
    if type(value) in (str, int, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, datetime):
        return format_stamp(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _generic_spec(name: str) -> EntitySpec:
    return EntitySpec(
        name,
        writable=frozenset(),
        read_only=frozenset(),
        filterable={"Id": "id", "MetaData.CreateTime": "datetime", "MetaData.LastUpdatedTime": "datetime",
                    "Name": "string", "DisplayName": "string", "Active": "bool"},
        deletable=False,
    )


class QboCompany:
    def __init__(self, entities: dict[str, list[dict]], settings):
        self.settings = settings
        self.realm_id = str(settings.realm_id)
        self.oauth_url: str | None = None
        self.lock = threading.RLock()
        self.specs: dict[str, EntitySpec] = dict(SPECS)
        self.entities: dict[str, dict[str, dict]] = {name: {} for name in SPECS}
        # entity -> Id -> LastUpdatedTime of the deletion (for CDC)
        self.deleted: dict[str, dict[str, str]] = {name: {} for name in SPECS}
        self.request_log: list[dict] = []
        self.idempotency: dict[str, tuple[int, dict]] = {}
        self.writes = 0
        # Extra server time per API request (seconds, real time), inside the concurrency window:
        # lets tests and benchmarks make requests overlap as they do against Intuit.
        self.latency_s = 0.0
        # Server time after the request was applied and before the answer leaves (seconds): the window
        # in which a client that dies has written to QBO without learning so (the crash test kills there).
        self.response_delay_s = 0.0
        self.fault_injector = None  # set by build_api_app when faults are configured (its .counts)
        self.stamper = Stamper()
        self.tokens = TokenStore(settings.qbo_access_token_ttl_s, settings.qbo_refresh_grace_s)
        self.throttle = Throttle(time_scale=settings.time_scale)
        self.initial_refresh_token = self.tokens.issue_refresh_token(self.realm_id)
        self._next_id: dict[str, int] = {}
        self._next_doc: dict[str, int] = {}
        self._batch_hidden: set[tuple[str, str]] | None = None
        # Indexes kept in step with `entities` so writes stay O(1) on large companies.
        self._names: dict[str, dict[str, str]] = {name: {} for name in NAME_FIELDS}
        self._docs: dict[str, dict[str, set[str]]] = {name: {} for name in DOC_ENTITIES}
        self._order: dict[str, list[str] | None] = {}
        self._stamps: dict[str, dict[str, datetime | None]] = {}  # parsed LastUpdatedTime, for CDC
        self._load(entities or {})
        for name, rows in self.entities.items():
            for row in rows.values():
                self._index(name, None, row)

    # ---- setup and test hooks ------------------------------------------------------------------

    def _load(self, entities: dict[str, list[dict]]) -> None:
        for raw_name, rows in entities.items():
            name = BY_LOWER.get(raw_name.lower(), raw_name)
            if name not in self.specs:
                self.specs[name] = _generic_spec(name)
                self.entities[name] = {}
                self.deleted[name] = {}
            for row in rows:
                entity = _normalize_loaded(row)
                entity["Id"] = str(entity["Id"])
                entity["SyncToken"] = str(entity.get("SyncToken", "0"))
                entity.setdefault("domain", "QBO")
                entity.setdefault("sparse", False)
                meta = entity.setdefault("MetaData", {})
                if not meta.get("LastUpdatedTime"):
                    meta["LastUpdatedTime"] = format_stamp(company_now())
                meta.setdefault("CreateTime", meta["LastUpdatedTime"])
                stamp = parse_instant(meta["LastUpdatedTime"])
                if stamp is not None:
                    self.stamper.observe(stamp)
                self.entities[name][entity["Id"]] = entity

    def expire_access_tokens(self) -> None:
        self.tokens.expire_access_tokens()

    @property
    def throttled_count(self) -> int:
        return self.throttle.throttled

    # ---- lookups used by the entity rules ------------------------------------------------------

    def lookup(self, entity: str, ident: str) -> dict | None:
        if self._batch_hidden is not None and (entity, str(ident)) in self._batch_hidden:
            return None  # batch items cannot see each other's results
        return self.entities.get(entity, {}).get(str(ident))

    def next_doc_number(self, entity: str) -> str:
        if entity not in self._next_doc:
            numbers = [int(e["DocNumber"]) for e in self.entities[entity].values()
                       if str(e.get("DocNumber", "")).isdigit()]
            self._next_doc[entity] = max(numbers, default=1000) + 1
        while self._docs[entity].get(str(self._next_doc[entity])):
            self._next_doc[entity] += 1
        number = str(self._next_doc[entity])
        self._next_doc[entity] += 1
        return number

    @staticmethod
    def _name_key(value: object) -> str:
        return str(value or "").strip().casefold()

    def name_owner(self, entity: str, name: str) -> str | None:
        return self._names[entity].get(self._name_key(name))

    def doc_owners(self, entity: str, doc_number: str) -> set[str]:
        return set(self._docs[entity].get(str(doc_number), ()))

    def _index(self, entity: str, old: dict | None, new: dict | None) -> None:
        if entity in NAME_FIELDS:
            names = self._names[entity]
            field = NAME_FIELDS[entity]
            if old is not None and names.get(self._name_key(old.get(field))) == old["Id"]:
                del names[self._name_key(old.get(field))]
            if new is not None and new.get(field):
                names.setdefault(self._name_key(new.get(field)), new["Id"])
        if entity in DOC_ENTITIES:
            docs = self._docs[entity]
            if old is not None and old.get("DocNumber"):
                docs.get(str(old["DocNumber"]), set()).discard(old["Id"])
            if new is not None and new.get("DocNumber"):
                docs.setdefault(str(new["DocNumber"]), set()).add(new["Id"])
        stamps = self._stamps.setdefault(entity, {})
        if new is not None:
            stamps[new["Id"]] = parse_instant((new.get("MetaData") or {}).get("LastUpdatedTime"))
        elif old is not None:
            stamps.pop(old["Id"], None)
        if (old is None) != (new is None):
            self._order[entity] = None  # an entity came or went: the Id order is stale

    def ordered_ids(self, entity: str) -> list[str]:
        """Ids in QBO's default query order (numeric Id), cached between inserts and deletes."""
        order = self._order.get(entity)
        if order is None:
            order = sorted(self.entities[entity], key=lambda i: (not i.isdigit(), int(i) if i.isdigit() else 0, i))
            self._order[entity] = order
        return order

    def _new_id(self, entity: str) -> str:
        if entity not in self._next_id:
            ids = [int(i) for i in (*self.entities[entity], *self.deleted[entity]) if i.isdigit()]
            self._next_id[entity] = max(ids, default=0) + 1
        ident = str(self._next_id[entity])
        self._next_id[entity] += 1
        return ident

    def _spec(self, name: str) -> EntitySpec:
        canonical = BY_LOWER.get(name.lower()) or next((n for n in self.specs if n.lower() == name.lower()), None)
        if canonical is None:
            raise errors.unsupported_operation(f"Operation on {name} is not supported.")
        return self.specs[canonical]

    # ---- storing, with the customer-balance bookkeeping -----------------------------------------

    @staticmethod
    def _exposure(entity: str, row: dict | None) -> tuple[str | None, Decimal]:
        """What `row` adds to its customer's Balance: open invoices minus unused credits."""
        if row is None:
            return None, Decimal(0)
        customer = (row.get("CustomerRef") or {}).get("value")
        if entity == "Invoice":
            return customer, Decimal(str(row.get("Balance", 0)))
        if entity == "CreditMemo":
            return customer, -Decimal(str(row.get("RemainingCredit", 0)))
        if entity == "Payment":
            return customer, -Decimal(str(row.get("UnappliedAmt", 0)))
        return None, Decimal(0)

    def _adjust_customer(self, customer_id: str | None, delta: Decimal) -> None:
        if not customer_id or not delta:
            return
        customer = self.entities["Customer"].get(str(customer_id))
        if customer is None:
            return
        for key in ("Balance", "BalanceWithJobs"):
            customer[key] = (Decimal(str(customer.get(key, 0))) + delta).quantize(CENT)

    def _track_exposure(self, entity: str, old: dict | None, new: dict | None) -> None:
        old_customer, old_amount = self._exposure(entity, old)
        new_customer, new_amount = self._exposure(entity, new)
        self._adjust_customer(old_customer, -old_amount)
        self._adjust_customer(new_customer, new_amount)

    def _save(self, entity: str, old: dict | None, new: dict) -> dict:
        stamp = format_stamp(self.stamper.next())
        new["SyncToken"] = str(int(old["SyncToken"]) + 1) if old is not None else "0"
        created = (old or {}).get("MetaData", {}).get("CreateTime", stamp)
        new["MetaData"] = {"CreateTime": created, "LastUpdatedTime": stamp}
        new["domain"] = "QBO"
        new["sparse"] = False
        new.pop("status", None)
        self._track_exposure(entity, old, new)
        self._index(entity, old, new)
        self.entities[entity][new["Id"]] = new
        self.writes += 1
        return new

    def _remove(self, entity: str, old: dict) -> str:
        stamp = format_stamp(self.stamper.next())
        self._track_exposure(entity, old, None)
        self._index(entity, old, None)
        del self.entities[entity][old["Id"]]
        self.deleted[entity][old["Id"]] = stamp
        self.writes += 1
        return stamp

    # ---- reads ---------------------------------------------------------------------------------

    def read(self, entity_name: str, ident: str) -> dict:
        with self.lock:
            spec = self._spec(entity_name)
            row = self.lookup(spec.name, ident)
            if row is None:
                raise errors.object_not_found()
            return {spec.name: clone(row)}

    def run_query(self, text: str, copy_rows: bool = True) -> dict:
        """A QueryResponse body. `copy_rows=False` hands out the stored rows themselves (for a caller
        that serializes at once): stored entities are replaced on write, never edited in place,
        except the running Customer.Balance."""
        with self.lock:
            q = query.parse(text)
            canonical = BY_LOWER.get(q.entity.lower()) or next(
                (n for n in self.specs if n.lower() == q.entity.lower()), None
            )
            if canonical is None:
                raise errors.query_error(f"QueryValidationError: Invalid entity: {q.entity}")
            spec = self.specs[canonical]
            by_lower = {k.lower(): (k, kind) for k, kind in spec.filterable.items()}

            def prop(name: str, what: str) -> tuple[str, str]:
                found = by_lower.get(name.lower())
                if found is None:
                    raise errors.query_error(f"QueryValidationError: property '{name}' is not {what} for {canonical}")
                return found

            conditions = []
            for cond in q.where:
                path, kind = prop(cond.field, "queryable")
                conditions.append((query.Condition(path, cond.op, cond.value), kind))
            order = [(prop(f, "sortable"), desc) for f, desc in q.order_by]
            table = self.entities[canonical]
            hidden = self._batch_hidden or set()
            # Without ORDER BY, rows come in Id order and the scan stops once the page is full.
            enough = None if (q.count or order) else q.start_position - 1 + q.max_results
            ids = self.ordered_ids(canonical)
            if enough is not None and not conditions and not hidden:
                ids = ids[:enough]
            rows = []
            for ident in ids:
                row = table[ident]
                if (canonical, ident) in hidden or not all(query.matches(row, c, k) for c, k in conditions):
                    continue
                rows.append(row)
                if enough is not None and len(rows) >= enough:
                    break
            if q.count:
                return {"totalCount": len(rows)}
            for (path, kind), desc in reversed(order):
                rows.sort(key=lambda r, p=path, k=kind: query.sort_key(r, p, k), reverse=desc)
            page = rows[q.start_position - 1 : q.start_position - 1 + q.max_results]
            if not page:
                return {}
            out = []
            for row in page:
                if q.projection is None:
                    out.append(clone(row) if copy_rows else row)
                else:
                    known = {k.lower(): k for k in spec.accepted | set(row)}
                    picked = {"Id": row["Id"], "SyncToken": row["SyncToken"], "domain": "QBO", "sparse": True,
                              "MetaData": clone(row.get("MetaData"))}
                    for name in q.projection:
                        key = known.get(name.lower())
                        if key is None:
                            raise errors.query_error(f"QueryValidationError: property '{name}' is not valid")
                        if key in row:
                            picked[key] = clone(row[key])
                    out.append(picked)
            return {canonical: out, "startPosition": q.start_position, "maxResults": len(out)}

    def cdc(self, entities_param: str | None, changed_since: str | None) -> tuple[int, dict]:
        """(HTTP status, body). Argument errors are HTTP 200 SystemFaults, as recorded."""
        with self.lock:
            if not entities_param:
                raise errors.system_fault("java.lang.IllegalArgumentException: entities is required", status=200)
            names = []
            for raw in entities_param.split(","):
                raw = raw.strip()
                canonical = next((n for n in self.specs if n.lower() == raw.lower()), None)
                if canonical is None:
                    raise errors.system_fault(
                        f"java.lang.IllegalArgumentException: entity {raw} is not supported", status=200
                    )
                names.append(canonical)
            if not changed_since:
                raise errors.system_fault(
                    "java.lang.IllegalArgumentException: changedSince is required", status=200
                )
            since = parse_instant(changed_since)
            if since is None:
                raise errors.system_fault(
                    f"java.lang.IllegalArgumentException: changedSince {changed_since} is not a date", status=200
                )
            if since < company_now() - CDC_MAX_AGE:
                # Message as users report it; the code is not on record (6000 = generic business rule).
                raise errors.business(
                    f"Operation cdc with changedSince date {changed_since} which is older than fixed days "
                    "is not supported.",
                    "changedSince",
                )
            changes: list[tuple[datetime, int, str, dict]] = []
            for order, name in enumerate(names):
                stamps = self._stamps.get(name, {})
                for ident, row in self.entities[name].items():
                    stamp = stamps.get(ident)
                    if stamp is not None and stamp >= since:
                        changes.append((stamp, order, name, row))
                for ident, when in self.deleted[name].items():
                    stamp = parse_instant(when)
                    if stamp is not None and stamp >= since:
                        changes.append((stamp, order, name, {"domain": "QBO", "status": "Deleted", "Id": ident,
                                                             "MetaData": {"LastUpdatedTime": when}}))
            # Oldest first and capped, so a client can continue from the last stamp it saw.
            changes.sort(key=lambda c: (c[0], c[1]))
            changes = changes[:CDC_MAX_OBJECTS]
            responses = []
            for name in names:
                rows = [clone(c[3]) for c in changes if c[2] == name]
                if rows:
                    responses.append({name: rows, "startPosition": 1, "maxResults": len(rows),
                                      "totalCount": len(rows)})
                else:
                    responses.append({})
            return 200, {"CDCResponse": [{"QueryResponse": responses}], "time": qbo_time()}

    # ---- writes --------------------------------------------------------------------------------

    def write(self, entity_name: str, body: object, params: dict) -> dict:
        """POST /<entity>: create, full or sparse update, delete, void. Returns {Entity: {...}}."""
        with self.lock:
            spec = self._spec(entity_name)
            name = spec.name
            if not isinstance(body, dict):
                raise errors.invalid_property(name, name, "Property Name:request body must be a JSON object")
            if name not in BUILDERS:
                raise errors.unsupported_operation(f"Operation Create/Update on {name} is not supported.")
            operation = str(params.get("operation") or "").lower()
            include = str(params.get("include") or "").lower()
            if operation == "delete":
                return self._delete(spec, body)
            if operation == "void" or (operation == "update" and include == "void"):
                return self._void(spec, body)
            if operation not in ("", "create", "update"):
                raise errors.unsupported_operation(f"Operation {operation} is not supported.")
            ident = body.get("Id")
            if ident in (None, "", 0, "0") and operation != "update":
                return self._create(spec, body, params)
            return self._update(spec, body, params)

    def _check_properties(self, spec: EntitySpec, body: dict, existing: dict | None) -> None:
        allowed = spec.accepted | (set(existing) if existing else set())
        for key in body:
            if key not in allowed:
                raise errors.invalid_property(key, spec.name)

    def _writable(self, spec: EntitySpec, body: dict) -> dict:
        cleaned = clean({k: v for k, v in body.items() if k in spec.writable or k not in spec.accepted}) or {}
        return clone(cleaned)

    def _create(self, spec: EntitySpec, body: dict, params: dict) -> dict:
        self._check_properties(spec, body, None)
        new = self._writable(spec, body)
        built = BUILDERS[spec.name](self, new, None, params)
        built["Id"] = self._new_id(spec.name)
        if spec.name == "Payment":
            self._relink_payment(built["Id"], [], payment_applications(built))
        saved = self._save(spec.name, None, built)
        if self._batch_hidden is not None:
            self._batch_hidden.add((spec.name, saved["Id"]))
        return {spec.name: clone(saved)}

    def _target(self, spec: EntitySpec, body: dict) -> dict:
        ident = body.get("Id")
        if ident in (None, ""):
            raise errors.required_missing("Id")
        existing = self.lookup(spec.name, str(ident))
        if existing is None:
            raise errors.object_not_found()
        token = body.get("SyncToken")
        if token in (None, ""):
            raise errors.required_missing("SyncToken")
        if str(token).strip() != existing["SyncToken"]:
            raise errors.stale_object()
        return existing

    def _update(self, spec: EntitySpec, body: dict, params: dict) -> dict:
        existing = self._target(spec, body)
        self._check_properties(spec, body, existing)
        sparse = body.get("sparse") in (True, "true", "True")
        if sparse:
            merged = {k: clone(v) for k, v in existing.items() if k in spec.writable}
            incoming = self._writable(spec, body)
            for key in body:
                if key in spec.writable and key not in incoming:
                    merged.pop(key, None)  # sent empty: cleared
            merged.update(incoming)
        else:
            # Full update: writable properties that are not sent are cleared.
            merged = self._writable(spec, body)
        keep_unknown = {k: v for k, v in existing.items() if k not in spec.accepted}
        merged = {**clone(keep_unknown), **merged}
        built = BUILDERS[spec.name](self, merged, existing, params)
        built["Id"] = existing["Id"]
        if spec.name == "Payment":
            self._relink_payment(built["Id"], payment_applications(existing), payment_applications(built))
        saved = self._save(spec.name, existing, built)
        return {spec.name: clone(saved)}

    def _delete(self, spec: EntitySpec, body: dict) -> dict:
        if not spec.deletable:
            raise errors.unsupported_operation(
                f"Operation Delete is not supported for {spec.name}; make it inactive (Active=false) instead."
            )
        existing = self._target(spec, body)
        if spec.name == "Invoice" and self._payment_links(existing):
            raise errors.business("This invoice has payments applied. Delete or change the payments first.")
        if spec.name == "CreditMemo" and self._credit_used(existing):
            raise errors.business("This credit memo has been applied to a payment. Change the payment first.")
        if spec.name == "Payment":
            self._relink_payment(existing["Id"], payment_applications(existing), [])
            existing = self.entities["Payment"][existing["Id"]]
        self._remove(spec.name, existing)
        return {spec.name: {"domain": "QBO", "status": "Deleted", "Id": existing["Id"]}}

    def _void(self, spec: EntitySpec, body: dict) -> dict:
        if spec.name not in ("Invoice", "Payment"):
            raise errors.unsupported_operation(f"Operation Void is not supported for {spec.name}.")
        existing = self._target(spec, body)
        voided = clone(existing)
        note = existing.get("PrivateNote") or ""
        # Voided transactions carry "Voided" in PrivateNote; the original note is kept after it so
        # references written there (the opportunity Id) survive.
        if not note.startswith("Voided"):
            voided["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        if spec.name == "Invoice":
            if self._payment_links(existing):
                raise errors.business("This invoice has payments applied. Delete or change the payments first.")
            for line in voided.get("Line", []):
                if "Amount" in line:
                    line["Amount"] = Decimal(0)
                detail = line.get("SalesItemLineDetail")
                if isinstance(detail, dict) and "Qty" in detail:
                    detail["Qty"] = Decimal(0)
            for key in ("TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance"):
                voided[key] = Decimal(0)
            voided.pop("Deposit", None)
        else:
            self._relink_payment(existing["Id"], payment_applications(existing), [])
            existing = self.entities["Payment"][existing["Id"]]
            for line in voided.get("Line", []):
                line["Amount"] = Decimal(0)
            voided["TotalAmt"] = Decimal(0)
            voided["UnappliedAmt"] = Decimal(0)
        saved = self._save(spec.name, existing, voided)
        return {spec.name: clone(saved)}

    @staticmethod
    def _payment_links(invoice: dict) -> list[dict]:
        return [link for link in invoice.get("LinkedTxn") or [] if link.get("TxnType") == "Payment"]

    @staticmethod
    def _credit_used(memo: dict) -> bool:
        return Decimal(str(memo.get("RemainingCredit", 0))) < Decimal(str(memo.get("TotalAmt", 0)))

    def _relink_payment(self, payment_id: str, old: list, new: list) -> None:
        """Move a payment's applications from `old` to `new`: balances and LinkedTxn on the targets."""
        delta: dict[tuple[str, str], Decimal] = {}
        for kind, ident, amount in old:
            delta[(kind, ident)] = delta.get((kind, ident), Decimal(0)) - amount
        for kind, ident, amount in new:
            delta[(kind, ident)] = delta.get((kind, ident), Decimal(0)) + amount
        still_linked = {(kind, ident) for kind, ident, amount in new if amount}
        for (kind, ident), change in delta.items():
            target = self.entities.get(kind, {}).get(ident)
            if target is None:
                continue
            updated = clone(target)
            links = [lk for lk in updated.get("LinkedTxn") or []
                     if not (lk.get("TxnType") == "Payment" and str(lk.get("TxnId")) == payment_id)]
            if (kind, ident) in still_linked:
                links.append({"TxnId": payment_id, "TxnType": "Payment"})
            if links:
                updated["LinkedTxn"] = links
            else:
                updated.pop("LinkedTxn", None)
            rate = Decimal(str(updated.get("ExchangeRate", 1) or 1))
            if kind == "Invoice":
                balance = Decimal(str(updated.get("Balance", 0))) - change
                updated["Balance"] = balance
                updated["HomeBalance"] = (balance * rate).quantize(CENT)
            else:
                remaining = Decimal(str(updated.get("RemainingCredit", 0))) - change
                updated["RemainingCredit"] = remaining
                updated["Balance"] = remaining
            if change or links != (target.get("LinkedTxn") or []):
                self._save(kind, target, updated)

    # ---- batch ---------------------------------------------------------------------------------

    def batch(self, body: object, params: dict) -> dict:
        with self.lock:
            if not isinstance(body, dict):
                raise errors.invalid_property("BatchItemRequest", "IntuitBatchRequest")
            items = body.get("BatchItemRequest")
            if not isinstance(items, list) or not items:
                raise errors.required_missing("BatchItemRequest")
            if len(items) > BATCH_MAX_ITEMS:
                # The cap is documented (30); the fault's code is not on record.
                raise errors.business(
                    f"The batch has {len(items)} items; at most {BATCH_MAX_ITEMS} BatchItemRequest items are "
                    "allowed in one request.",
                    "BatchItemRequest",
                )
            with_requestid = bool(params.get("requestid"))
            seen: set[str] = set()
            for item in items:
                if not isinstance(item, dict) or not item.get("bId"):
                    raise errors.required_missing("bId")
                bid = str(item["bId"])
                if with_requestid and len(bid) > BATCH_BID_MAX:
                    raise errors.string_length("bId", BATCH_BID_MAX, len(bid))
                if bid in seen:
                    raise errors.business(f"Duplicate bId {bid} in the batch.", "bId")
                seen.add(bid)
            responses = []
            self._batch_hidden = set()
            try:
                for item in items:
                    responses.append({"bId": str(item["bId"]), **self._batch_item(item)})
            finally:
                self._batch_hidden = None
            return {"BatchItemResponse": responses, "time": qbo_time()}

    def _batch_item(self, item: dict) -> dict:
        try:
            if "Query" in item:
                return {"QueryResponse": self.run_query(item["Query"])}
            operation = str(item.get("operation") or "").lower()
            names = [k for k in item if k not in ("bId", "operation", "optionsData")]
            if len(names) != 1:
                raise errors.invalid_property(",".join(names) or "operation", "BatchItemRequest")
            spec = self._spec(names[0])
            payload = item[names[0]]
            if not isinstance(payload, dict):
                raise errors.invalid_property(names[0], "BatchItemRequest")
            if operation == "create":
                payload = {k: v for k, v in payload.items() if k != "Id"}
                return self.write(spec.name, payload, {})
            if operation == "update":
                if not payload.get("Id"):
                    raise errors.required_missing("Id")
                void = str(item.get("optionsData") or "").lower() == "void"
                return self.write(spec.name, payload, {"operation": "update", "include": "void" if void else ""})
            if operation == "delete":
                return self.write(spec.name, payload, {"operation": "delete"})
            raise errors.unsupported_operation(f"Operation {operation or '(none)'} is not supported in batch.")
        except QboError as err:
            return {"Fault": err.fault()}

    # ---- company-level reads -------------------------------------------------------------------

    def preferences(self) -> dict:
        return {
            "Preferences": {
                "CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}},
                "SalesFormsPrefs": {"CustomTxnNumbers": False, "AllowDuplicateDocNum": False},
                "domain": "QBO",
                "sparse": False,
                "Id": "1",
                "SyncToken": "0",
            }
        }

    def company_info(self, ident: str) -> dict:
        if ident != self.realm_id:
            raise errors.object_not_found()
        return {
            "CompanyInfo": {
                "CompanyName": "LedgerLink Sandbox Company",
                "Country": "US",
                "Id": self.realm_id,
                "SyncToken": "0",
                "domain": "QBO",
                "sparse": False,
            }
        }
