"""Build the QBO Customer and Invoice bodies LedgerLink writes, from Salesforce records.

Pure functions: staging rows in, JSON bodies out. A record that cannot be turned into a valid
body raises `PlanProblem` naming the record, the field and the reason; the planner holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ledgerlink.config import ItemMapping
from ledgerlink.load import keys

CENT = Decimal("0.01")
PRICE_EXP = Decimal("0.00001")  # QBO amounts: at most 10.5 digits
PRIVATE_NOTE_MAX = 4000
DESCRIPTION_MAX = 4000
DISPLAY_NAME_MAX = 500
COMPANY_NAME_MAX = 100
PHONE_MAX = 30
EMAIL_MAX = 100


class PlanProblem(ValueError):
    """A record that cannot be planned; the message names the record, the field and the reason."""


@dataclass(frozen=True)
class OppLine:
    id: str
    product2_id: str | None
    product_name: str | None
    product_code: str | None
    quantity: Decimal | None
    unit_price: Decimal | None
    total_price: Decimal | None
    service_date: date | None = None


@dataclass(frozen=True)
class Opportunity:
    id: str
    name: str | None
    account_id: str | None
    stage_name: str | None
    close_date: date | None
    amount: Decimal | None
    currency: str | None
    lines: tuple[OppLine, ...] = ()


@dataclass(frozen=True)
class Account:
    id: str
    name: str | None
    billing_street: str | None = None
    billing_city: str | None = None
    billing_state: str | None = None
    billing_postal_code: str | None = None
    billing_country: str | None = None
    phone: str | None = None
    website: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    sku: str | None = None
    active: bool = True


@dataclass(frozen=True)
class Term:
    id: str
    name: str
    due_days: int | None


@dataclass(frozen=True)
class CustomerInfo:
    """What the invoice needs to know about its QBO customer."""

    id: str | None  # None while the customer is still to be created
    currency: str | None = None
    sales_term_id: str | None = None


@dataclass
class PlannedDoc:
    payload: dict
    flags: list[str] = field(default_factory=list)


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _num(value: Decimal) -> float | int:
    """JSON number for a Decimal; float repr is exact for the short decimals QBO takes."""
    return int(value) if value == value.to_integral_value() else float(value)


class ItemResolver:
    """Product2 -> QBO Item, by name or by code (Item.Sku), with overrides and a flagged fallback."""

    def __init__(self, mapping: ItemMapping, items: list[Item]):
        self.mapping = mapping
        active = [i for i in items if i.active]
        self.by_name = {i.name.strip().casefold(): i for i in active if i.name}
        self.by_sku = {i.sku.strip().casefold(): i for i in active if i.sku}
        self.overrides = {k.strip().casefold(): v for k, v in mapping.overrides.items()}

    def fallback(self) -> Item:
        item = self.by_name.get(self.mapping.fallback_item.strip().casefold())
        if item is None:
            raise PlanProblem(
                f"fallback item {self.mapping.fallback_item!r} (settings loads.item_mapping.fallback_item) "
                "does not exist as an active QBO Item"
            )
        return item

    def resolve(self, line: OppLine) -> tuple[Item, str | None]:
        """The item for a line, and a flag when the fallback had to be used."""
        product = line.product_name or line.product2_id or line.id
        for key in (line.product2_id, line.product_name):
            override = self.overrides.get(key.strip().casefold()) if key else None
            if override is not None:
                item = self.by_name.get(override.strip().casefold())
                if item is not None:
                    return item, None
                return self.fallback(), f"fallback_item:{product} (override names missing item {override!r})"
        if self.mapping.match_by == "name":
            item = self.by_name.get((line.product_name or "").strip().casefold())
        else:
            item = self.by_sku.get((line.product_code or "").strip().casefold())
        if item is not None:
            return item, None
        return self.fallback(), f"fallback_item:{product}"


def _line_amounts(opp: Opportunity, line: OppLine) -> tuple[Decimal, Decimal, Decimal]:
    """(amount, qty, unit price) such that amount = qty * unit price to the cent."""
    qty = line.quantity if line.quantity is not None else Decimal(1)
    if qty <= 0:
        raise PlanProblem(f"Opportunity {opp.id} line {line.id}: Quantity {qty} must be positive")
    if line.total_price is not None:
        amount = money(line.total_price)
    elif line.unit_price is not None:
        amount = money(qty * line.unit_price)
    else:
        raise PlanProblem(f"Opportunity {opp.id} line {line.id}: neither TotalPrice nor UnitPrice is set")
    if amount < 0:
        raise PlanProblem(f"Opportunity {opp.id} line {line.id}: negative TotalPrice {amount}")
    unit = line.unit_price if line.unit_price is not None else amount / qty
    # Discounted lines: TotalPrice < Quantity x UnitPrice. QBO checks Amount against
    # Qty x UnitPrice, so bill the effective unit price.
    if money(qty * unit) != amount:
        unit = (amount / qty).quantize(PRICE_EXP, rounding=ROUND_HALF_UP)
    return amount, qty, unit


def build_invoice(
    opp: Opportunity,
    customer: CustomerInfo,
    *,
    resolver: ItemResolver,
    term: Term | None,
    home_currency: str,
    rates: dict[str, Decimal],
    as_of: date,
) -> PlannedDoc:
    """The Invoice body for a Closed Won opportunity."""
    if len(opp.id) != 18:
        raise PlanProblem(f"Opportunity {opp.id}: Id must be the 18-character form to link the invoice")
    flags: list[str] = []
    currency = (opp.currency or home_currency).upper()
    if customer.currency and customer.currency.upper() != currency:
        raise PlanProblem(
            f"Opportunity {opp.id}: CurrencyIsoCode {currency} differs from its QBO customer's currency "
            f"{customer.currency} (a QBO customer bills in one currency)"
        )
    if currency == home_currency:
        rate = Decimal(1)
    elif currency in rates:
        rate = Decimal(rates[currency])
    else:
        raise PlanProblem(
            f"Opportunity {opp.id}: no exchange rate for CurrencyIsoCode {currency} "
            "(add it to settings reports.exchange_rates)"
        )

    lines: list[dict] = []
    source_lines = list(opp.lines)
    if not source_lines:
        if opp.amount is None or opp.amount <= 0:
            raise PlanProblem(f"Opportunity {opp.id}: no line items and no positive Amount to invoice")
        item = resolver.fallback()
        flags.append("no_line_items")
        amount = money(opp.amount)
        lines.append(_line(1, item, amount, Decimal(1), amount, opp.name or "Opportunity amount", None))
    for number, line in enumerate(source_lines, start=1):
        item, flag = resolver.resolve(line)
        if flag:
            flags.append(flag)
        amount, qty, unit = _line_amounts(opp, line)
        lines.append(_line(number, item, amount, qty, unit, line.product_name or item.name, line.service_date))

    total = sum((Decimal(str(line["Amount"])) for line in lines), Decimal(0))
    if opp.amount is not None and source_lines and abs(money(opp.amount) - total) > CENT:
        flags.append(f"amount_differs_from_lines:{money(opp.amount)}!={total}")

    txn_date = opp.close_date or as_of
    payload: dict = {
        "DocNumber": keys.doc_number(opp.id),
        "TxnDate": txn_date.isoformat(),
        "CustomerRef": {"value": customer.id},
        "CurrencyRef": {"value": currency},
        "ExchangeRate": _num(rate),
        "PrivateNote": private_note(opp),
        "Line": lines,
    }
    if term is not None:
        payload["SalesTermRef"] = {"value": term.id}
        if term.due_days is not None:
            payload["DueDate"] = (txn_date + timedelta(days=term.due_days)).isoformat()
    else:
        flags.append("no_payment_term")
    return PlannedDoc(payload, flags)


def _line(number: int, item: Item, amount: Decimal, qty: Decimal, unit: Decimal, description: str,
          service_date: date | None) -> dict:
    detail: dict = {"ItemRef": {"value": item.id, "name": item.name}, "Qty": _num(qty), "UnitPrice": _num(unit)}
    if service_date is not None:
        detail["ServiceDate"] = service_date.isoformat()
    return {
        "LineNum": number,
        "DetailType": "SalesItemLineDetail",
        "Amount": _num(amount),
        "Description": description[:DESCRIPTION_MAX],
        "SalesItemLineDetail": detail,
    }


def private_note(opp: Opportunity) -> str:
    """Ties the invoice to its opportunity: the 18-character Id (see reconcile.rules)."""
    note = f"Salesforce Opportunity {opp.id}"
    if opp.name:
        note += f": {opp.name}"
    return note[:PRIVATE_NOTE_MAX]


def build_customer(account: Account, *, currency: str | None, home_currency: str,
                   term: Term | None = None) -> PlannedDoc:
    """The Customer body for an account with no QBO customer."""
    name = " ".join((account.name or "").split())
    if not name:
        raise PlanProblem(f"Account {account.id}: Name is empty; a QBO customer needs a DisplayName")
    if len(name) > DISPLAY_NAME_MAX:
        raise PlanProblem(f"Account {account.id}: Name is {len(name)} characters; QBO DisplayName allows {DISPLAY_NAME_MAX}")
    payload: dict = {"DisplayName": name, "CompanyName": name[:COMPANY_NAME_MAX]}
    address = billing_address(account)
    if address:
        payload["BillAddr"] = address
    if account.phone:
        payload["PrimaryPhone"] = {"FreeFormNumber": account.phone[:PHONE_MAX]}
    if account.email and len(account.email) <= EMAIL_MAX:
        payload["PrimaryEmailAddr"] = {"Address": account.email}
    if account.website:
        payload["WebAddr"] = {"URI": account.website}
    if currency and currency.upper() != home_currency:
        payload["CurrencyRef"] = {"value": currency.upper()}
    if term is not None:
        payload["SalesTermRef"] = {"value": term.id}
    return PlannedDoc(payload, [])


def billing_address(account: Account) -> dict:
    address = {}
    if account.billing_street:
        for i, part in enumerate(account.billing_street.splitlines()[:5], start=1):
            if part.strip():
                address[f"Line{i}"] = part.strip()
    for key, value in (
        ("City", account.billing_city),
        ("CountrySubDivisionCode", account.billing_state),
        ("PostalCode", account.billing_postal_code),
        ("Country", account.billing_country),
    ):
        if value:
            address[key] = value
    return address
