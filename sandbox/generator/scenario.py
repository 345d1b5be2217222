"""Scenario folders: a test states an exact case in a few small files.

    my_case/
      meta.json                  {"as_of": "2026-11-22"}            (optional; default today)
      salesforce/Account.csv     or .json (a list of records)
      salesforce/Opportunity.json
      salesforce/OpportunityLineItem.csv
      qbo/Customer.json          (a list of entities in QBO JSON; CSV columns may be dotted
      qbo/Invoice.json            paths like `CustomerRef.value`, `Line` cells hold JSON)
      truth.json                 (optional: customer_links, duplicate clusters, reconciliation)

Values are converted to the types the emulators expect (Salesforce dates, datetimes, Decimals
and booleans; QBO money as Decimal, Ids as strings), and what a real record always has is
filled in, so a file can hold only the fields the case is about: Ids, SystemModstamp and
friends, IsDeleted, IsWon/IsClosed from StageName, Amount from the line items, SyncToken,
MetaData, invoice totals and balances, customer balances (open invoices minus unused credits),
exchange rates, home amounts and due dates.

Without a `truth.json` reconciliation the truth is computed by the rules, with each account
linked to the customer its `QBO_Customer_Id__c` names, or to the customers `truth.json`'s
`customer_links` pair it with.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS
from ledgerlink.reconcile.rules import DEFAULT_RATES, HOME_CURRENCY
from sandbox.dataset import Dataset, GroundTruth
from sandbox.generator.context import CURRENCY_NAMES, QBO_TZ
from sandbox.generator.ids import KEY_PREFIXES, QboIds, SalesforceIds, sf_checksum
from sandbox.generator.truth import ground_truth_reconciliation, qbo_id_key


class ScenarioError(ValueError):
    """A scenario file holds a value that cannot be used; the message names file, row and field."""


# Salesforce field types beyond the extract specs (which hold the fields the pipeline reads).
_SF_COMMON = {
    "Id": "id",
    "IsDeleted": "boolean",
    "CreatedDate": "timestamptz",
    "LastModifiedDate": "timestamptz",
    "SystemModstamp": "timestamptz",
}
_SF_EXTRA = {
    "Account": {"CurrencyIsoCode": "text"},
    "Contact": {"OwnerId": "text"},
    "Opportunity": {"Probability": "numeric", "Pricebook2Id": "text"},
    "OpportunityLineItem": {"ListPrice": "numeric", "CurrencyIsoCode": "text"},
    "Pricebook2": {"Name": "text", "IsStandard": "boolean", "IsActive": "boolean"},
    "PricebookEntry": {"UseStandardPrice": "boolean", "Name": "text", "ProductCode": "text"},
    "User": {"FirstName": "text", "LastName": "text", "Username": "text"},
}
SF_FIELD_TYPES: dict[str, dict[str, str]] = {
    obj: {**_SF_COMMON, **{s.name: s.fields for s in SALESFORCE_OBJECTS}.get(obj, {}), **_SF_EXTRA.get(obj, {})}
    for obj in KEY_PREFIXES
}
_SF_REFERENCES = {
    "AccountId": "001",
    "OwnerId": "005",
    "OpportunityId": "006",
    "Product2Id": "01t",
    "PricebookEntryId": "01u",
    "Pricebook2Id": "01s",
}
_QBO_MONEY = {
    "TotalAmt", "Balance", "HomeTotalAmt", "HomeBalance", "UnappliedAmt", "RemainingCredit", "Amount",
    "UnitPrice", "ExchangeRate", "BalanceWithJobs",
}
_QBO_DATES = {"TxnDate", "DueDate", "ServiceDate"}
QBO_ENTITY_NAMES = [e.name for e in QBO_ENTITIES]
_ID_RE = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


def _where(file: str, row: int, field: str) -> str:
    return f"{file}, row {row}, field {field}"


def _decimal(value, where: str) -> Decimal:
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: {value!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ScenarioError(f"{where}: {value!r} is not a number (write e.g. 1250.00, no thousands separators)") from None
    if not number.is_finite():
        raise ScenarioError(f"{where}: {value!r} is not a finite number")
    return number


def _date(value, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ScenarioError(f"{where}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def _datetime(value, where: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text)  # Salesforce writes +0000
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ScenarioError(
                f"{where}: {value!r} is not a datetime (expected ISO 8601, e.g. 2026-01-31T17:00:00Z)"
            ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _boolean(value, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "t"):
        return True
    if text in ("false", "0", "no", "n", "f"):
        return False
    raise ScenarioError(f"{where}: {value!r} is not a boolean (expected true or false)")


def _sf_id(value, sobject: str, where: str, prefix: str | None) -> str:
    text = str(value).strip()
    if not _ID_RE.match(text) or (prefix and not text.startswith(prefix)):
        expected = f"starting with {prefix}" if prefix else ""
        raise ScenarioError(
            f"{where}: {value!r} is not a Salesforce Id {expected} (15 or 18 letters and digits, "
            f"e.g. {(prefix or '001')}000000000001AAA); leave Id out to have one assigned"
        )
    return text if len(text) == 18 else text + sf_checksum(text)


def _read_records(path: Path, label: str) -> list[dict]:
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
            data = next(iter(data.values()))  # {"Invoice": [...]} as QBO query responses nest it
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ScenarioError(f"{label}: expected a JSON list of objects")
        return data
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def _files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".json", ".csv"):
            continue
        if path.stem in found:
            raise ScenarioError(f"{folder.name}/{path.stem}: both {found[path.stem].name} and {path.name} exist; keep one")
        found[path.stem] = path
    return found


# --- Salesforce ---------------------------------------------------------------------------

def _load_salesforce(folder: Path, as_of: date) -> dict[str, list[dict]]:
    files = _files(folder)
    ids = SalesforceIds(instance="9z")
    default_stamp = datetime.combine(as_of - timedelta(days=30), time(12), UTC)
    out: dict[str, list[dict]] = {}
    for sobject, path in files.items():
        label = f"salesforce/{path.name}"
        if sobject not in SF_FIELD_TYPES:
            raise ScenarioError(f"{label}: unknown Salesforce object {sobject!r}; known: {', '.join(SF_FIELD_TYPES)}")
        types = SF_FIELD_TYPES[sobject]
        records = []
        for row_no, raw in enumerate(_read_records(path, label), start=1):
            record: dict = {}
            for field, value in raw.items():
                if field is None:
                    raise ScenarioError(f"{label}, row {row_no}: more values than header columns")
                field = field.strip()
                if value is None or (isinstance(value, str) and value.strip() == ""):
                    record[field] = None
                    continue
                where = _where(label, row_no, field)
                kind = types.get(field, "text")
                if field == "Id":
                    record[field] = _sf_id(value, sobject, where, KEY_PREFIXES[sobject])
                elif field in _SF_REFERENCES:
                    record[field] = _sf_id(value, sobject, where, _SF_REFERENCES[field])
                elif kind == "boolean":
                    record[field] = _boolean(value, where)
                elif kind == "date":
                    record[field] = _date(value, where)
                elif kind == "timestamptz":
                    record[field] = _datetime(value, where)
                elif kind.startswith("numeric") or kind == "integer":
                    record[field] = _decimal(value, where)
                elif field.endswith("__c") and isinstance(value, int | float):
                    record[field] = str(value)  # e.g. QBO_Customer_Id__c typed as a JSON number
                else:
                    record[field] = value
            for field in types:  # the emulators answer null for fields the file leaves out
                record.setdefault(field, None)
            if not record.get("Id"):
                record["Id"] = ids.next(sobject)
            record["IsDeleted"] = bool(record.get("IsDeleted"))
            created = record.get("CreatedDate") or default_stamp
            record["CreatedDate"] = created
            record["LastModifiedDate"] = record.get("LastModifiedDate") or record.get("SystemModstamp") or created
            record["SystemModstamp"] = record.get("SystemModstamp") or record["LastModifiedDate"]
            records.append(record)
        out[sobject] = records
    _complete_opportunities(out)
    return out


def _complete_opportunities(sf: dict[str, list[dict]]) -> None:
    items = sf.get("OpportunityLineItem", [])
    for li in items:
        if li.get("TotalPrice") is None and li.get("Quantity") is not None and li.get("UnitPrice") is not None:
            li["TotalPrice"] = (li["Quantity"] * li["UnitPrice"]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for li in items:
        if not li.get("IsDeleted") and li.get("TotalPrice") is not None:
            totals[li.get("OpportunityId")] += li["TotalPrice"]
    for opp in sf.get("Opportunity", []):
        stage = opp.get("StageName") or ""
        if opp.get("IsWon") is None:
            opp["IsWon"] = stage == "Closed Won"
        if opp.get("IsClosed") is None:
            opp["IsClosed"] = stage in ("Closed Won", "Closed Lost")
        if opp.get("Amount") is None and opp["Id"] in totals:
            opp["Amount"] = totals[opp["Id"]]
        opp.setdefault("CurrencyIsoCode", HOME_CURRENCY)
        opp["CurrencyIsoCode"] = opp["CurrencyIsoCode"] or HOME_CURRENCY
        opp.setdefault("QBO_Invoice_Id__c", None)


# --- QBO ----------------------------------------------------------------------------------

def _nest(flat: dict) -> dict:
    """CSV columns `CustomerRef.value` -> {"CustomerRef": {"value": ...}}; JSON cells parsed."""
    nested: dict = {}
    for key, value in flat.items():
        if key is None:
            continue
        if value is None or (isinstance(value, str) and value.strip() == ""):
            continue
        if isinstance(value, str) and value.strip()[:1] in "[{":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        target = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return nested


def _convert_qbo(value, label: str, row: int, path: str):
    """Money fields to Decimal, dates checked, Ids as strings; recursive."""
    if isinstance(value, dict):
        return {k: _convert_qbo(v, label, row, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_convert_qbo(v, label, row, f"{path}[{i}]") for i, v in enumerate(value)]
    leaf = path.rsplit(".", 1)[-1]
    where = _where(label, row, path)
    if value is None:
        return None
    if leaf in _QBO_MONEY:
        return _decimal(value, where)
    if leaf in _QBO_DATES:
        return _date(value, where).isoformat()
    if leaf in ("Id", "SyncToken", "value", "TxnId", "DocNumber"):
        if isinstance(value, float | bool):
            raise ScenarioError(f"{where}: {value!r} should be a string such as \"42\"")
        return str(value)
    if leaf in ("Active", "Taxable", "Job", "BillWithParent", "sparse"):
        return _boolean(value, where)
    return value


def _load_qbo(folder: Path, as_of: date) -> dict[str, list[dict]]:
    files = _files(folder)
    known = set(QBO_ENTITY_NAMES)
    out: dict[str, list[dict]] = {}
    ids = QboIds()
    stamp = datetime.combine(as_of - timedelta(days=30), time(9), UTC).astimezone(QBO_TZ).isoformat()
    for entity, path in files.items():
        label = f"qbo/{path.name}"
        if entity not in known:
            raise ScenarioError(f"{label}: unknown QBO entity {entity!r}; known: {', '.join(QBO_ENTITY_NAMES)}")
        records = []
        for row_no, raw in enumerate(_read_records(path, label), start=1):
            record = _convert_qbo(_nest(raw), label, row_no, "")
            record["Id"] = record.get("Id") or ids.next("list" if entity in ("Customer", "Item", "Term") else "txn", 1000)
            record.setdefault("SyncToken", "0")
            meta = record.setdefault("MetaData", {})
            meta.setdefault("CreateTime", stamp)
            meta.setdefault("LastUpdatedTime", meta["CreateTime"])
            record.setdefault("domain", "QBO")
            record.setdefault("sparse", False)
            records.append(record)
        out[entity] = records
    _complete_qbo(out, as_of)
    return out


def _complete_qbo(qbo: dict[str, list[dict]], as_of: date) -> None:
    cent = Decimal("0.01")
    customers = {c["Id"]: c for c in qbo.get("Customer", [])}
    terms = {t["Id"]: int(t.get("DueDays") or 0) for t in qbo.get("Term", [])}
    for customer in customers.values():
        customer.setdefault("Active", True)
        customer.setdefault("CurrencyRef", {"value": HOME_CURRENCY, "name": CURRENCY_NAMES[HOME_CURRENCY]})
        customer.setdefault("FullyQualifiedName", customer.get("DisplayName"))
    for item in qbo.get("Item", []):
        item.setdefault("Type", "Service")
        item.setdefault("Active", True)
    open_balance: dict[str, Decimal] = defaultdict(Decimal)
    for kind in ("Invoice", "CreditMemo", "Payment"):
        for row_no, txn in enumerate(qbo.get(kind, []), start=1):
            label = f"qbo/{kind}"
            customer_ref = (txn.get("CustomerRef") or {}).get("value")
            customer = customers.get(customer_ref)
            if kind != "Payment":
                if not txn.get("TxnDate"):
                    raise ScenarioError(f"{label}, row {row_no}, field TxnDate: missing (expected YYYY-MM-DD)")
                lines = txn.setdefault("Line", [])
                for line_no, line in enumerate(lines, start=1):
                    detail = line.get("SalesItemLineDetail")
                    if detail is None:
                        continue
                    line.setdefault("DetailType", "SalesItemLineDetail")
                    line.setdefault("Id", str(line_no))
                    if line.get("Amount") is None:
                        if detail.get("Qty") is None or detail.get("UnitPrice") is None:
                            raise ScenarioError(
                                f"{label}, row {row_no}, field Line[{line_no - 1}].Amount: missing, and Qty/UnitPrice "
                                "are not both given to compute it"
                            )
                        qty = _decimal(detail["Qty"], _where(label, row_no, f"Line[{line_no - 1}].SalesItemLineDetail.Qty"))
                        line["Amount"] = (qty * detail["UnitPrice"]).quantize(cent, rounding=ROUND_HALF_UP)
                if txn.get("TotalAmt") is None:
                    txn["TotalAmt"] = sum(
                        (line.get("Amount") or Decimal(0) for line in lines if line.get("DetailType") == "SalesItemLineDetail"),
                        Decimal("0.00"),
                    )
            currency = (txn.get("CurrencyRef") or {}).get("value") or (
                (customer or {}).get("CurrencyRef", {}).get("value") or HOME_CURRENCY
            )
            if currency not in DEFAULT_RATES:
                raise ScenarioError(
                    f"{label}, row {row_no}, field CurrencyRef.value: {currency!r} is not one of {', '.join(DEFAULT_RATES)}"
                )
            txn.setdefault("CurrencyRef", {"value": currency, "name": CURRENCY_NAMES[currency]})
            txn.setdefault("ExchangeRate", DEFAULT_RATES[currency])
            if customer is not None:
                txn["CustomerRef"].setdefault("name", customer.get("DisplayName"))
            if kind == "Invoice":
                txn.setdefault("Balance", txn["TotalAmt"])
                rate = txn["ExchangeRate"]
                txn.setdefault("HomeTotalAmt", (txn["TotalAmt"] * rate).quantize(cent, rounding=ROUND_HALF_UP))
                if not txn.get("DueDate"):
                    days = terms.get((txn.get("SalesTermRef") or {}).get("value") or "", 0)
                    txn["DueDate"] = (date.fromisoformat(txn["TxnDate"]) + timedelta(days=days)).isoformat()
                txn.setdefault("LinkedTxn", [])
                open_balance[customer_ref] += txn["Balance"]
            elif kind == "CreditMemo":
                txn.setdefault("RemainingCredit", txn["TotalAmt"])
                open_balance[customer_ref] -= txn["RemainingCredit"]
                txn.setdefault("Balance", txn["RemainingCredit"])
                txn.setdefault(
                    "HomeTotalAmt", (txn["TotalAmt"] * txn["ExchangeRate"]).quantize(cent, rounding=ROUND_HALF_UP)
                )
            else:
                txn["TxnDate"] = txn.get("TxnDate") or as_of.isoformat()
                txn.setdefault("UnappliedAmt", Decimal("0.00"))
                open_balance[customer_ref] -= txn["UnappliedAmt"]
                txn.setdefault("Line", [])
    for customer_id, customer in customers.items():
        # As QBO keeps it: open invoices minus unused credit memos and unapplied payments.
        customer.setdefault("Balance", open_balance.get(customer_id, Decimal("0.00")))
    for kind in ("Invoice", "CreditMemo", "Payment"):
        if kind in qbo:
            qbo[kind].sort(key=lambda t: qbo_id_key(t["Id"]))


# --- the whole folder ---------------------------------------------------------------------

def _parse_truth(data: dict, label: str) -> GroundTruth:
    truth = GroundTruth(
        customer_links=[tuple(pair) for pair in data.get("customer_links", [])],
        sf_duplicate_clusters=[list(c) for c in data.get("sf_duplicate_clusters", [])],
        qb_duplicate_clusters=[list(c) for c in data.get("qb_duplicate_clusters", [])],
    )
    for pair in truth.customer_links:
        if len(pair) != 2:
            raise ScenarioError(f"{label}, field customer_links: {list(pair)!r} is not an [account, customer] pair")
    for row_no, row in enumerate(data.get("reconciliation", []), start=1):
        parsed = dict(row)
        for money_field in ("closed_won_home", "invoiced_home"):
            parsed[money_field] = _decimal(row.get(money_field, "0"), _where(label, row_no, money_field)).quantize(
                Decimal("0.01")
            )
        truth.reconciliation.append(parsed)
    return truth


def load_scenario(directory: Path | str) -> Dataset:
    """A `Dataset` from a scenario folder (see the module docstring for the layout)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ScenarioError(f"scenario folder {directory} does not exist")
    meta_path = directory / "meta.json"
    try:
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"meta.json: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    as_of = _date(meta["as_of"], "meta.json, field as_of") if meta.get("as_of") else date.today()
    salesforce = _load_salesforce(directory / "salesforce", as_of)
    qbo = _load_qbo(directory / "qbo", as_of)
    truth_path = directory / "truth.json"
    try:
        truth_data = json.loads(truth_path.read_text()) if truth_path.exists() else {}
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"truth.json: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    truth = _parse_truth(truth_data, "truth.json")
    customer_of_account: dict[str, set[str]] = defaultdict(set)
    if truth.customer_links:
        for account, customer in truth.customer_links:
            customer_of_account[account].add(customer)
    else:
        for account in salesforce.get("Account", []):
            if account.get("QBO_Customer_Id__c") and not account.get("IsDeleted"):
                customer_of_account[account["Id"]].add(str(account["QBO_Customer_Id__c"]))
                truth.customer_links.append((account["Id"], str(account["QBO_Customer_Id__c"])))
    dataset = Dataset(salesforce=salesforce, qbo=qbo, truth=truth, as_of=as_of)
    computed = ground_truth_reconciliation(dataset, customer_of_account)
    if "reconciliation" not in truth_data:
        truth.reconciliation = computed
    dataset.extras = {
        "scenario": str(directory),
        "customer_of_account": {k: sorted(v) for k, v in customer_of_account.items()},
        "computed_reconciliation": computed,
    }
    return dataset


def write_dataset(dataset: Dataset, directory: Path | str) -> Path:
    """Write `truth.json` (the ground truth) and `summary.json` beside a served dataset."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    truth_path = directory / "truth.json"
    truth_path.write_text(json.dumps(dataset.truth.to_json(), indent=1) + "\n")
    extras = getattr(dataset, "extras", {}) or {}
    categories: dict[str, int] = defaultdict(int)
    for row in dataset.truth.reconciliation:
        categories[row["category"]] += 1
    summary = {
        "as_of": dataset.as_of.isoformat(),
        "profile": extras.get("profile"),
        "seed": extras.get("seed"),
        "scenario": extras.get("scenario"),
        "salesforce": {name: len(records) for name, records in dataset.salesforce.items()},
        "qbo": {name: len(records) for name, records in dataset.qbo.items()},
        "customer_links": len(dataset.truth.customer_links),
        "sf_duplicate_clusters": len(dataset.truth.sf_duplicate_clusters),
        "qb_duplicate_clusters": len(dataset.truth.qb_duplicate_clusters),
        "reconciliation_categories": dict(sorted(categories.items())),
        "amount_line_mismatch_opportunity_ids": extras.get("amount_line_mismatch_opportunity_ids", []),
    }
    (directory / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return truth_path
