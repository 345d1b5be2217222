"""The entities the emulator serves: accepted properties, query metadata and the write rules.

Each `build_*` function takes the merged entity body (after a full or sparse merge), the stored
entity it replaces (None on create) and the company, validates it as QBO does and fills in the
computed, read-only fields. Side effects on other entities (balances, links) live in
`sandbox.qbo.company`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from ledgerlink.reconcile.rules import DEFAULT_RATES, HOME_CURRENCY
from sandbox.qbo import errors
from sandbox.qbo.clock import company_today
from sandbox.qbo.payload import (
    CENT,
    boolean,
    check_properties,
    decimal,
    money,
    ref_value,
    text,
)

if TYPE_CHECKING:
    from sandbox.qbo.company import QboCompany

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "CAD": "Canadian Dollar",
}

_SYSTEM = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse", "status"})
_ADDRESS = frozenset(
    {"Id", "Line1", "Line2", "Line3", "Line4", "Line5", "City", "Country", "CountrySubDivisionCode",
     "PostalCode", "Lat", "Long", "Note"}
)


@dataclass(frozen=True)
class EntitySpec:
    name: str
    writable: frozenset[str]
    read_only: frozenset[str]  # accepted in a payload (python-quickbooks round-trips them) and ignored
    # query metadata: property -> kind ("id", "string", "number", "bool", "date", "datetime")
    filterable: dict[str, str]
    deletable: bool = True

    @property
    def accepted(self) -> frozenset[str]:
        return self.writable | self.read_only | _SYSTEM


_META = {"MetaData.CreateTime": "datetime", "MetaData.LastUpdatedTime": "datetime", "Id": "id"}

CUSTOMER = EntitySpec(
    "Customer",
    writable=frozenset(
        {"Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "CompanyName", "DisplayName",
         "PrintOnCheckName", "Notes", "Active", "IsProject", "Job", "BillWithParent", "Taxable",
         "PreferredDeliveryMethod", "ResaleNum", "OpenBalanceDate", "PrimaryTaxIdentifier", "BillAddr",
         "ShipAddr", "PrimaryPhone", "AlternatePhone", "Mobile", "Fax", "PrimaryEmailAddr", "WebAddr",
         "DefaultTaxCodeRef", "SalesTermRef", "PaymentMethodRef", "ParentRef", "ARAccountRef", "CurrencyRef",
         "CustomerTypeRef", "TaxExemptionReasonId", "SecondaryTaxIdentifier", "BusinessNumber",
         "GSTIN", "GSTRegistrationType", "Source"}
    ),
    read_only=frozenset({"FullyQualifiedName", "Level", "Balance", "BalanceWithJobs", "V4IDPseudonym"}),
    filterable=_META
    | {"DisplayName": "string", "GivenName": "string", "MiddleName": "string", "FamilyName": "string",
       "CompanyName": "string", "FullyQualifiedName": "string", "PrimaryEmailAddr": "string",
       "Active": "bool", "Balance": "number", "BalanceWithJobs": "number", "Job": "bool",
       "ParentRef": "id", "CurrencyRef": "string", "SalesTermRef": "id", "Taxable": "bool"},
    deletable=False,
)

ITEM = EntitySpec(
    "Item",
    writable=frozenset(
        {"Name", "Description", "Active", "SubItem", "ParentRef", "Taxable", "SalesTaxIncluded", "UnitPrice",
         "Type", "PurchaseDesc", "PurchaseTaxIncluded", "PurchaseCost", "TrackQtyOnHand", "QtyOnHand",
         "InvStartDate", "AssetAccountRef", "ExpenseAccountRef", "IncomeAccountRef", "SalesTaxCodeRef",
         "PurchaseTaxCodeRef", "AbatementRate", "ReverseChargeRate", "ServiceType", "ItemCategoryType",
         "Sku", "ClassRef", "PrefVendorRef", "ReorderPoint", "TaxClassificationRef", "Source"}
    ),
    read_only=frozenset({"FullyQualifiedName", "Level"}),
    filterable=_META
    | {"Name": "string", "Active": "bool", "Type": "string", "Sku": "string", "FullyQualifiedName": "string",
       "ParentRef": "id", "UnitPrice": "number", "QtyOnHand": "number"},
    deletable=False,
)

TERM = EntitySpec(
    "Term",
    writable=frozenset(
        {"Name", "Active", "DiscountPercent", "DueDays", "DiscountDays", "DayOfMonthDue", "DueNextMonthDays",
         "DiscountDayOfMonth"}
    ),
    read_only=frozenset({"Type"}),
    filterable=_META | {"Name": "string", "Active": "bool", "DueDays": "number", "Type": "string"},
    deletable=False,
)

_SALES_TXN_WRITABLE = frozenset(
    {"DocNumber", "TxnDate", "PrivateNote", "CustomerRef", "CurrencyRef", "ExchangeRate", "Line", "CustomField",
     "BillAddr", "ShipAddr", "BillEmail", "BillEmailCc", "BillEmailBcc", "CustomerMemo", "ClassRef",
     "DepartmentRef", "SalesTermRef", "TxnTaxDetail", "GlobalTaxCalculation", "ApplyTaxAfterDiscount",
     "PrintStatus", "EmailStatus", "DepositToAccountRef", "PaymentMethodRef", "ShipMethodRef",
     "TaxExemptionRef", "TransactionLocationType", "ProjectRef", "FreeFormAddress", "TxnSource",
     "RecurDataRef", "ShipFromAddr"}
)

INVOICE = EntitySpec(
    "Invoice",
    writable=_SALES_TXN_WRITABLE
    | {"DueDate", "ShipDate", "TrackingNum", "Deposit", "AllowIPNPayment", "AllowOnlinePayment",
       "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment", "DeliveryInfo"},
    read_only=frozenset(
        {"TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "LinkedTxn", "InvoiceLink", "EInvoiceStatus",
         "TxnStatus"}
    ),
    filterable=_META
    | {"DocNumber": "string", "TxnDate": "date", "DueDate": "date", "CustomerRef": "id", "TotalAmt": "number",
       "Balance": "number", "CurrencyRef": "string", "SalesTermRef": "id", "HomeTotalAmt": "number",
       "DepartmentRef": "id", "ClassRef": "id"},
)

CREDIT_MEMO = EntitySpec(
    "CreditMemo",
    writable=_SALES_TXN_WRITABLE | {"InvoiceRef"},
    read_only=frozenset({"TotalAmt", "Balance", "RemainingCredit", "HomeTotalAmt", "HomeBalance", "LinkedTxn",
                         "TxnStatus"}),
    filterable=_META
    | {"DocNumber": "string", "TxnDate": "date", "CustomerRef": "id", "TotalAmt": "number",
       "Balance": "number", "RemainingCredit": "number", "CurrencyRef": "string"},
)

PAYMENT = EntitySpec(
    "Payment",
    writable=frozenset(
        {"TxnDate", "PrivateNote", "CustomerRef", "CurrencyRef", "ExchangeRate", "Line", "TotalAmt",
         "PaymentRefNum", "PaymentMethodRef", "DepositToAccountRef", "ARAccountRef", "CreditCardPayment",
         "TaxExemptionRef", "TransactionLocationType", "TxnSource", "ProcessPayment", "ProjectRef"}
    ),
    read_only=frozenset({"UnappliedAmt", "TxnStatus", "HomeTotalAmt", "LinkedTxn"}),
    filterable=_META
    | {"TxnDate": "date", "CustomerRef": "id", "TotalAmt": "number", "PaymentRefNum": "string",
       "UnappliedAmt": "number", "CurrencyRef": "string"},
)

SPECS: dict[str, EntitySpec] = {s.name: s for s in (CUSTOMER, ITEM, TERM, INVOICE, CREDIT_MEMO, PAYMENT)}
BY_LOWER = {name.lower(): name for name in SPECS}

_LINE_FIELDS = frozenset({"Id", "LineNum", "Description", "Amount", "DetailType", "LinkedTxn", "CustomField",
                          "SalesItemLineDetail", "DiscountLineDetail", "DescriptionLineDetail",
                          "SubTotalLineDetail", "SubtotalLineDetail", "GroupLineDetail", "ProjectRef"})
_SALES_DETAIL = frozenset({"ItemRef", "ItemAccountRef", "ClassRef", "TaxCodeRef", "PriceLevelRef", "MarkupInfo",
                           "Qty", "UnitPrice", "ServiceDate", "TaxInclusiveAmt", "DiscountRate", "DiscountAmt",
                           "TaxClassificationRef"})
_DISCOUNT_DETAIL = frozenset({"Discount", "ClassRef", "TaxCodeRef", "DiscountAccountRef", "PercentBased",
                              "DiscountPercent"})


# ---- shared helpers ----------------------------------------------------------------------------


def currency_ref(code: str) -> dict:
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}


def _iso_date(body: dict, key: str, entity: str) -> date | None:
    if key not in body:
        return None
    try:
        return date.fromisoformat(str(body[key])[:10])
    except ValueError:
        raise errors.invalid_property(
            key, entity, f"Property Name:{key} value '{body[key]}' is not a valid date (yyyy-MM-dd)"
        ) from None


def _active_ref(company: QboCompany, entity: str, body: dict, key: str, target: str, required: bool) -> dict | None:
    """Resolve a ref to a live, active entity or fail with 610 as QBO does for inactive/missing refs."""
    ident = ref_value(body, key, entity, required=required)
    if ident is None:
        return None
    found = company.lookup(target, ident)
    if found is None or found.get("Active") is False:
        raise errors.object_not_found(key)
    return found


def _bool_field(body: dict, key: str, entity: str, default: bool | None = None) -> None:
    if key in body:
        body[key] = boolean(body[key], key, entity)
    elif default is not None:
        body[key] = default


def _check_name_unique(company: QboCompany, entity: str, value: str, existing: dict | None, kind: str) -> None:
    # Names compare trimmed and case-insensitively (the stricter reading; QBO's rule is not on record).
    owner = company.name_owner(entity, value)
    if owner is not None and (existing is None or owner != existing["Id"]):
        raise errors.duplicate_name(kind)


def _exchange(body: dict, currency: str, entity: str) -> Decimal:
    """ExchangeRate as given; omitted or 0 (python-quickbooks' CreditMemo default) means today's rate."""
    if currency == HOME_CURRENCY:
        body["ExchangeRate"] = 1
        return Decimal(1)
    rate = decimal(body["ExchangeRate"], "ExchangeRate", entity) if "ExchangeRate" in body else Decimal(0)
    if rate <= 0:
        rate = DEFAULT_RATES.get(currency, Decimal(1))
    body["ExchangeRate"] = rate
    return rate


def _txn_currency(company: QboCompany, body: dict, customer: dict, entity: str) -> str:
    customer_currency = (customer.get("CurrencyRef") or {}).get("value", HOME_CURRENCY)
    currency = ref_value(body, "CurrencyRef", entity) or customer_currency
    if currency != customer_currency:
        # A customer's currency is fixed; every transaction with it must use it.
        raise errors.business(
            "The currency of the transaction is invalid for customer / vendor / account.", "CurrencyRef"
        )
    body["CurrencyRef"] = currency_ref(currency)
    return currency


def _doc_number(company: QboCompany, body: dict, existing: dict | None, entity: str, allow_duplicate: bool) -> None:
    number = text(body, "DocNumber", 21, entity)
    if number is None:
        if existing is not None and existing.get("DocNumber"):
            return  # full update without DocNumber keeps QBO's auto-number
        body["DocNumber"] = company.next_doc_number(entity)
        return
    if allow_duplicate:
        return
    others = sorted(company.doc_owners(entity, number) - ({existing["Id"]} if existing else set()), key=int)
    if others:
        raise errors.duplicate_doc_number(number, entity, others[0])


# ---- name lists --------------------------------------------------------------------------------


def build_customer(company: QboCompany, body: dict, existing: dict | None, params: dict) -> dict:
    e = "Customer"
    for key, limit in (("GivenName", 100), ("MiddleName", 100), ("FamilyName", 100), ("Title", 16),
                       ("Suffix", 16), ("CompanyName", 100), ("PrintOnCheckName", 110), ("Notes", 2000),
                       ("ResaleNum", 16)):
        text(body, key, limit, e)
    for key in ("BillAddr", "ShipAddr"):
        if key in body:
            if not isinstance(body[key], dict):
                raise errors.invalid_property(key, e)
            check_properties(body[key], _ADDRESS, e, key + ".")
    if isinstance(body.get("PrimaryEmailAddr"), dict):
        text(body["PrimaryEmailAddr"], "Address", 100, e, "PrimaryEmailAddr.Address")
    display = text(body, "DisplayName", 500, e)
    if display is None:
        parts = [body.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        display = " ".join(str(p) for p in parts if p)
        if not display:
            if existing is not None:
                display = existing["DisplayName"]
            else:
                raise errors.required_missing("DisplayName")
        body["DisplayName"] = display
    _check_name_unique(company, "Customer", display, existing, "customer, vendor or employee")
    for key in ("Active", "Job", "BillWithParent", "Taxable", "IsProject"):
        _bool_field(body, key, e, {"Active": True, "Job": False, "BillWithParent": False}.get(key))
    parent = _active_ref(company, e, body, "ParentRef", "Customer", required=False)
    _active_ref(company, e, body, "SalesTermRef", "Term", required=False)
    if parent is not None:
        body["Job"] = True
        body["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{display}"
        body["Level"] = int(parent.get("Level", 0)) + 1
    else:
        body["FullyQualifiedName"] = display
        body.pop("Level", None)
    body.setdefault("PrintOnCheckName", display)
    body.setdefault("PreferredDeliveryMethod", "Print")
    if existing is not None:
        # CurrencyRef is read-only once set.
        body["CurrencyRef"] = existing.get("CurrencyRef", currency_ref(HOME_CURRENCY))
        body["Balance"] = existing.get("Balance", 0)
        body["BalanceWithJobs"] = existing.get("BalanceWithJobs", existing.get("Balance", 0))
    else:
        code = ref_value(body, "CurrencyRef", e) or HOME_CURRENCY
        if code not in CURRENCY_NAMES:
            raise errors.business(f"The currency {code} is not enabled for this company.", "CurrencyRef")
        body["CurrencyRef"] = currency_ref(code)
        body["Balance"] = Decimal(0)
        body["BalanceWithJobs"] = Decimal(0)
    return body


_ITEM_TYPES = {"Service", "NonInventory", "Inventory", "Group", "Category"}


def build_item(company: QboCompany, body: dict, existing: dict | None, params: dict) -> dict:
    e = "Item"
    name = text(body, "Name", 100, e)
    if name is None:
        raise errors.required_missing("Name")
    text(body, "Description", 4000, e)
    text(body, "PurchaseDesc", 4000, e)
    text(body, "Sku", 100, e)
    _check_name_unique(company, "Item", name, existing, "product or service")
    kind = body.get("Type") or (existing or {}).get("Type")
    if not kind:
        raise errors.required_missing("Type")
    if not isinstance(kind, str) or kind not in _ITEM_TYPES:
        raise errors.invalid_property("Type", e, f"Property Name:Type value '{kind}' is unsupported or invalid")
    body["Type"] = kind
    if kind in ("Service", "NonInventory", "Inventory"):
        # Accounts are not emulated: any income account id is accepted, but one must be given.
        ref_value(body, "IncomeAccountRef", e, required=True)
    if kind == "Inventory":
        ref_value(body, "AssetAccountRef", e, required=True)
        ref_value(body, "ExpenseAccountRef", e, required=True)
        if _iso_date(body, "InvStartDate", e) is None:
            raise errors.required_missing("InvStartDate")
        body["TrackQtyOnHand"] = True
    for key in ("UnitPrice", "PurchaseCost", "QtyOnHand"):
        if key in body:
            body[key] = decimal(body[key], key, e)
    for key in ("Active", "Taxable", "SubItem", "TrackQtyOnHand", "SalesTaxIncluded", "PurchaseTaxIncluded"):
        _bool_field(body, key, e, {"Active": True}.get(key))
    if existing is not None and existing.get("TrackQtyOnHand") and body.get("TrackQtyOnHand") is False:
        raise errors.business("TrackQtyOnHand cannot be turned off once it is on.", "TrackQtyOnHand")
    parent = _active_ref(company, e, body, "ParentRef", "Item", required=False)
    body["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{name}" if parent else name
    return body


def build_term(company: QboCompany, body: dict, existing: dict | None, params: dict) -> dict:
    e = "Term"
    name = text(body, "Name", 31, e)
    if name is None:
        raise errors.required_missing("Name")
    _check_name_unique(company, "Term", name, existing, "term")
    for key, low, high in (("DueDays", 0, 999), ("DiscountDays", 0, 999), ("DayOfMonthDue", 1, 31),
                           ("DueNextMonthDays", 0, 999), ("DiscountDayOfMonth", 1, 31),
                           ("DiscountPercent", 0, 100)):
        if key in body:
            value = decimal(body[key], key, e)
            if not low <= value <= high:
                raise errors.business(f"{key} must be between {low} and {high}.", key)
            body[key] = value if key == "DiscountPercent" else int(value)
    body["Type"] = "DATE_DRIVEN" if "DayOfMonthDue" in body else "STANDARD"
    if body["Type"] == "STANDARD" and "DueDays" not in body:
        body["DueDays"] = 0
    _bool_field(body, "Active", e, True)
    return body


# ---- sales transactions ------------------------------------------------------------------------


def build_lines(company: QboCompany, body: dict, existing: dict | None, entity: str) -> Decimal:
    """Validate Line, number the lines, append the SubTotalLine; return the total amount."""
    lines = body.get("Line")
    if lines is None:
        raise errors.required_missing("Line")
    if not isinstance(lines, list):
        raise errors.invalid_property("Line", entity)
    kept: list[dict] = []
    used_ids = {str(line.get("Id")) for line in lines if isinstance(line, dict) and line.get("Id")}
    next_id = 1
    subtotal = Decimal(0)
    discount = Decimal(0)
    for raw in lines:
        if not isinstance(raw, dict):
            raise errors.invalid_property("Line", entity)
        line = dict(raw)
        check_properties(line, _LINE_FIELDS, entity, "Line.")
        kind = line.get("DetailType")
        if kind in ("SubTotalLineDetail", "SubtotalLineDetail"):
            continue  # computed by the server, never stored from input
        if not kind:
            raise errors.required_missing("Line.DetailType")
        line.pop("SubtotalLineDetail", None)
        text(line, "Description", 4000, entity, "Line.Description")
        if kind == "SalesItemLineDetail":
            detail = line.get("SalesItemLineDetail")
            if not isinstance(detail, dict):
                raise errors.required_missing("SalesItemLineDetail")
            check_properties(detail, _SALES_DETAIL, entity, "Line.SalesItemLineDetail.")
            if "Amount" not in line:
                raise errors.required_missing("Amount")
            amount = money(line["Amount"], "Amount", entity)
            if ref_value(detail, "ItemRef", entity) is None:
                raise errors.required_missing("ItemRef")
            item = company.lookup("Item", detail["ItemRef"]["value"])
            if item is None or item.get("Active") is False:
                raise errors.object_not_found("ItemRef")
            detail["ItemRef"].setdefault("name", item.get("Name"))
            qty = decimal(detail["Qty"], "Qty", entity) if "Qty" in detail else None
            price = decimal(detail["UnitPrice"], "UnitPrice", entity) if "UnitPrice" in detail else None
            # python-quickbooks sends Qty 0 / UnitPrice 0 when unset: only check a real pair.
            if qty and price and abs((qty * price).quantize(CENT) - amount) > CENT / 2:
                raise errors.validation(
                    "6070", "Amount is not equal to UnitPrice * Qty",
                    f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}", "Amount",
                )
            if qty is not None:
                detail["Qty"] = qty
            if price is not None:
                detail["UnitPrice"] = price
            line["Amount"] = amount
            subtotal += amount
        elif kind == "DiscountLineDetail":
            detail = line.get("DiscountLineDetail") or {}
            check_properties(detail, _DISCOUNT_DETAIL, entity, "Line.DiscountLineDetail.")
            if detail.get("PercentBased") and "DiscountPercent" in detail:
                pct = decimal(detail["DiscountPercent"], "DiscountPercent", entity)
                line["Amount"] = (subtotal * pct / 100).quantize(CENT)
            elif "Amount" in line:
                line["Amount"] = money(line["Amount"], "Amount", entity)
            else:
                raise errors.required_missing("Amount")
            discount += line["Amount"]
        elif kind == "DescriptionOnly":
            if "Amount" in line:
                line["Amount"] = money(line["Amount"], "Amount", entity)
        else:
            raise errors.invalid_property(
                "DetailType", entity, f"Property Name:DetailType value '{kind}' is unsupported or invalid"
            )
        ident = str(line.get("Id") or "")
        if not ident.isdigit():
            while str(next_id) in used_ids:
                next_id += 1
            ident = str(next_id)
            used_ids.add(ident)
        line["Id"] = ident
        line["LineNum"] = len(kept) + 1
        line.pop("LinkedTxn", None)
        kept.append(line)
    if not any(line["DetailType"] == "SalesItemLineDetail" for line in kept):
        raise errors.required_missing("Line")
    kept.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    body["Line"] = kept
    return subtotal - discount


def _sales_common(company: QboCompany, body: dict, existing: dict | None, entity: str, params: dict) -> tuple:
    customer = _active_ref(company, entity, body, "CustomerRef", "Customer", required=True)
    body["CustomerRef"].setdefault("name", customer.get("DisplayName"))
    text(body, "PrivateNote", 4000, entity)
    allow_dup = "allowduplicatedocnum" in str(params.get("include", "")).lower()
    _doc_number(company, body, existing, entity, allow_dup)
    txn_date = _iso_date(body, "TxnDate", entity) or company_today()
    body["TxnDate"] = txn_date.isoformat()
    currency = _txn_currency(company, body, customer, entity)
    rate = _exchange(body, currency, entity)
    total = build_lines(company, body, existing, entity)
    if total < 0:
        raise errors.business("Transaction total can not be negative.", "Line")
    for key in ("ClassRef", "DepartmentRef", "TaxExemptionRef"):
        ref_value(body, key, entity)
    text(body.get("CustomerMemo") or {}, "value", 1000, entity, "CustomerMemo")
    return customer, txn_date, rate, total


def build_invoice(company: QboCompany, body: dict, existing: dict | None, params: dict) -> dict:
    e = "Invoice"
    customer, txn_date, rate, total = _sales_common(company, body, existing, e, params)
    term = _active_ref(company, e, body, "SalesTermRef", "Term", required=False)
    if term is None and customer.get("SalesTermRef"):
        term = company.lookup("Term", str(customer["SalesTermRef"].get("value")))
        if term is not None:
            body["SalesTermRef"] = {"value": term["Id"], "name": term.get("Name")}
    due = _iso_date(body, "DueDate", e)
    if due is None:
        due = txn_date + timedelta(days=int(term.get("DueDays") or 0)) if term else txn_date
    if due < txn_date:
        raise errors.business("The due date cannot be earlier than the transaction date.", "DueDate")
    body["DueDate"] = due.isoformat()
    _iso_date(body, "ShipDate", e)
    deposit = money(body["Deposit"], "Deposit", e) if "Deposit" in body else Decimal(0)
    if deposit:
        body["Deposit"] = deposit
    else:
        body.pop("Deposit", None)
    for key in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment",
                "FreeFormAddress", "ApplyTaxAfterDiscount"):
        _bool_field(body, key, e)
    paid = Decimal(0)
    if existing is not None:
        # What payments (and the generator's history) took off this invoice stays taken off.
        paid = Decimal(str(existing.get("TotalAmt", 0))) - Decimal(str(existing.get("Deposit", 0))) - Decimal(
            str(existing.get("Balance", 0))
        )
        body["LinkedTxn"] = existing.get("LinkedTxn", [])
    else:
        body.pop("LinkedTxn", None)
    balance = total - deposit - paid
    if balance < 0:
        raise errors.business("The invoice total cannot be less than the payments applied to it.", "Line")
    body["TotalAmt"] = total
    body["Balance"] = balance
    body["HomeTotalAmt"] = (total * rate).quantize(CENT)
    body["HomeBalance"] = (balance * rate).quantize(CENT)
    body.setdefault("PrintStatus", "NotSet")
    body.setdefault("EmailStatus", "NotSet")
    return body


def build_credit_memo(company: QboCompany, body: dict, existing: dict | None, params: dict) -> dict:
    e = "CreditMemo"
    customer, txn_date, rate, total = _sales_common(company, body, existing, e, params)
    invoice_id = ref_value(body, "InvoiceRef", e)
    if invoice_id is not None:
        invoice = company.lookup("Invoice", invoice_id)
        if invoice is None:
            raise errors.object_not_found("InvoiceRef")
        if (invoice.get("CustomerRef") or {}).get("value") != customer["Id"]:
            raise errors.business("The invoice referenced belongs to another customer.", "InvoiceRef")
    used = Decimal(0)
    if existing is not None:
        used = Decimal(str(existing.get("TotalAmt", 0))) - Decimal(str(existing.get("RemainingCredit", 0)))
    remaining = total - used
    if remaining < 0:
        raise errors.business("The credit memo total cannot be less than the credit already applied.", "Line")
    body["TotalAmt"] = total
    body["RemainingCredit"] = remaining
    body["Balance"] = remaining
    body["HomeTotalAmt"] = (total * rate).quantize(CENT)
    body.setdefault("PrintStatus", "NotSet")
    body.setdefault("EmailStatus", "NotSet")
    return body


def payment_applications(payment: dict) -> list[tuple[str, str, Decimal]]:
    """(TxnType, TxnId, amount) for each line of a stored payment."""
    out = []
    for line in payment.get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            out.append((str(link.get("TxnType")), str(link.get("TxnId")), Decimal(str(line.get("Amount", 0)))))
    return out


def build_payment(company: QboCompany, body: dict, existing: dict | None, params: dict) -> dict:
    e = "Payment"
    customer = _active_ref(company, e, body, "CustomerRef", "Customer", required=True)
    body["CustomerRef"].setdefault("name", customer.get("DisplayName"))
    if "TotalAmt" not in body:
        raise errors.required_missing("TotalAmt")
    total = money(body["TotalAmt"], "TotalAmt", e)
    if total < 0:
        raise errors.business("The payment amount cannot be negative.", "TotalAmt")
    text(body, "PrivateNote", 4000, e)
    text(body, "PaymentRefNum", 21, e)
    txn_date = _iso_date(body, "TxnDate", e) or company_today()
    body["TxnDate"] = txn_date.isoformat()
    currency = _txn_currency(company, body, customer, e)
    _exchange(body, currency, e)
    previously = {}
    if existing is not None:
        for kind, ident, amount in payment_applications(existing):
            previously[(kind, ident)] = previously.get((kind, ident), Decimal(0)) + amount
    lines = body.get("Line") or []
    if not isinstance(lines, list):
        raise errors.invalid_property("Line", e)
    applied: dict[tuple[str, str], Decimal] = {}
    clean_lines = []
    for raw in lines:
        if not isinstance(raw, dict):
            raise errors.invalid_property("Line", e)
        check_properties(raw, frozenset({"Amount", "LinkedTxn", "LineEx", "Id", "LineNum", "Description"}), e,
                         "Line.")
        if "Amount" not in raw:
            raise errors.required_missing("Line.Amount")
        amount = money(raw["Amount"], "Line.Amount", e)
        links = raw.get("LinkedTxn")
        if not isinstance(links, list) or not links:
            raise errors.required_missing("LinkedTxn")
        clean_links = []
        for link in links:
            if not isinstance(link, dict) or not link.get("TxnId") or not link.get("TxnType"):
                raise errors.required_missing("LinkedTxn.TxnId")
            kind, ident = str(link["TxnType"]), str(link["TxnId"])
            if kind not in ("Invoice", "CreditMemo"):
                raise errors.object_not_found("LinkedTxn")
            target = company.lookup(kind, ident)
            if target is None:
                raise errors.object_not_found("LinkedTxn")
            if (target.get("CustomerRef") or {}).get("value") != customer["Id"]:
                raise errors.business(f"{kind} {ident} belongs to another customer.", "LinkedTxn")
            clean_links.append({"TxnId": ident, "TxnType": kind})
            applied[(kind, ident)] = applied.get((kind, ident), Decimal(0)) + amount
        clean_lines.append({"Amount": amount, "LinkedTxn": clean_links})
    for (kind, ident), amount in applied.items():
        target = company.lookup(kind, ident)
        open_amount = Decimal(str(target.get("Balance" if kind == "Invoice" else "RemainingCredit", 0)))
        available = open_amount + previously.get((kind, ident), Decimal(0))
        if amount > available:
            raise errors.business(
                f"The amount applied to {kind} {ident} ({amount}) exceeds its open balance ({available}).",
                "Line.Amount",
            )
    net = sum((a for (k, _), a in applied.items() if k == "Invoice"), Decimal(0)) - sum(
        (a for (k, _), a in applied.items() if k == "CreditMemo"), Decimal(0)
    )
    if net > total:
        raise errors.business("The amounts applied exceed the payment amount.", "TotalAmt")
    body["Line"] = clean_lines
    body["TotalAmt"] = total
    body["UnappliedAmt"] = total - max(net, Decimal(0))
    return body


BUILDERS = {
    "Customer": build_customer,
    "Item": build_item,
    "Term": build_term,
    "Invoice": build_invoice,
    "CreditMemo": build_credit_memo,
    "Payment": build_payment,
}
