"""The reconciliation a perfect pipeline would produce, computed from a dataset by the rules.

This is a deliberately plain, independent reading of `ledgerlink.reconcile.rules` (no SQL, no
shared code with the report) so that the report and the truth can catch each other's bugs. The
generator also records the category it *meant* to create for each case; a test checks that the
two agree.

Interpretations where the rules leave room (kept in one place so the report can match them):
* "Lowest Id" compares QBO Ids as numbers.
* An invoice is voided when TotalAmt is 0 and PrivateNote starts with "Voided"; it is deleted
  when absent, or when present with `status == "Deleted"` (the CDC shape).
* Line items counted for PARTIALLY_INVOICED are the opportunity's non-deleted line items;
  the invoice's sales lines are its `SalesItemLineDetail` lines.
* An invoice row's `sf_opportunity_id` is the Id its PrivateNote refers to (None if none),
  and its `closed_won_home` is always 0: an opportunity is counted once, on its own row.
* `invoiced_home` counts an invoice once: on the opportunity row that carries it when it is
  live and dated in that month, otherwise on its own invoice row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from ledgerlink.reconcile.rules import DEFAULT_RATES, HOME_CURRENCY, TOLERANCE, Category, opportunity_ref

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    if value is None or value == "":
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def to_home(amount, currency: str | None) -> Decimal:
    """An amount in home currency at the default rates, to the cent (half up)."""
    rate = DEFAULT_RATES[currency or HOME_CURRENCY]
    return (money(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def month_of(value) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()[:7]
    return str(value)[:7]


def qbo_id_key(qbo_id: str) -> tuple:
    return (0, int(qbo_id), "") if str(qbo_id).isdigit() else (1, 0, str(qbo_id))


def is_voided(invoice: dict) -> bool:
    return money(invoice.get("TotalAmt")) == 0 and (invoice.get("PrivateNote") or "").startswith("Voided")


def is_live(invoice: dict) -> bool:
    return invoice.get("status") != "Deleted" and not is_voided(invoice)


def invoice_home(invoice: dict) -> Decimal:
    if invoice.get("HomeTotalAmt") is not None:
        return money(invoice["HomeTotalAmt"]).quantize(CENT, rounding=ROUND_HALF_UP)
    rate = money(invoice.get("ExchangeRate") or 1)
    return (money(invoice.get("TotalAmt")) * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _currency(invoice: dict) -> str:
    return (invoice.get("CurrencyRef") or {}).get("value") or HOME_CURRENCY


def _sales_lines(invoice: dict) -> int:
    return sum(1 for line in invoice.get("Line") or () if line.get("DetailType") == "SalesItemLineDetail")


def _customer_matches(invoice: dict, expected: str | Collection[str] | None) -> bool:
    customer = (invoice.get("CustomerRef") or {}).get("value")
    if expected is None:
        return False
    if isinstance(expected, str):
        return customer == expected
    return customer in expected


def ground_truth_reconciliation(
    dataset, customer_of_account: Mapping[str, str | Collection[str]]
) -> list[dict]:
    """Every reconciliation row of every month, per `ledgerlink.reconcile.rules`.

    `customer_of_account` maps a Salesforce Account Id to the QBO customer Id (or the set of
    Ids) that is truly the same company.
    """
    opportunities = {o["Id"]: o for o in dataset.salesforce.get("Opportunity", ())}
    line_items = Counter(
        li["OpportunityId"] for li in dataset.salesforce.get("OpportunityLineItem", ()) if not li.get("IsDeleted")
    )
    invoices = sorted(dataset.qbo.get("Invoice", ()), key=lambda i: qbo_id_key(i["Id"]))
    invoices = [i for i in invoices if i.get("status") != "Deleted"]
    credited = {
        (memo.get("InvoiceRef") or {}).get("value")
        for memo in dataset.qbo.get("CreditMemo", ())
        if memo.get("status") != "Deleted"
    }

    linked: dict[str, list[dict]] = defaultdict(list)  # opportunity Id -> invoices, lowest Id first
    for invoice in invoices:
        ref = opportunity_ref(invoice.get("PrivateNote"))
        if ref:
            linked[ref].append(invoice)

    def closed_won(opp: dict | None) -> bool:
        return bool(opp and opp.get("IsWon") and not opp.get("IsDeleted"))

    rows: list[dict] = []
    carried: set[tuple[str, str]] = set()  # (month, invoice Id) already on an opportunity row

    for opp in opportunities.values():
        if not closed_won(opp):
            continue
        month = month_of(opp["CloseDate"])
        amount = money(opp.get("Amount"))
        all_linked = linked.get(opp["Id"], [])
        live = [i for i in all_linked if is_live(i)]
        invoice = live[0] if live else (all_linked[0] if all_linked else None)
        if invoice is None:
            category = Category.NOT_INVOICED
        elif not live:
            category = Category.VOIDED_OR_DELETED
        elif len(live) > 1:
            category = Category.DUPLICATE_INVOICE
        elif not _customer_matches(invoice, customer_of_account.get(opp.get("AccountId"))):
            category = Category.CUSTOMER_MISMATCH
        elif _currency(invoice) != (opp.get("CurrencyIsoCode") or HOME_CURRENCY):
            category = Category.CURRENCY_DIFFERENCE
        elif invoice["Id"] in credited:
            category = Category.CREDITED
        elif (
            money(invoice.get("TotalAmt")) < amount - TOLERANCE
            and _sales_lines(invoice) < line_items[opp["Id"]]
        ):
            category = Category.PARTIALLY_INVOICED
        elif abs(money(invoice.get("TotalAmt")) - amount) > TOLERANCE:
            category = Category.AMOUNT_MISMATCH
        elif month_of(invoice["TxnDate"]) != month:
            category = Category.TIMING_DIFFERENCE
        else:
            category = Category.MATCHED
        invoiced = ZERO
        if invoice is not None:
            carried.add((month, invoice["Id"]))
            if is_live(invoice) and month_of(invoice["TxnDate"]) == month:
                invoiced = invoice_home(invoice)
        rows.append(
            {
                "month": month,
                "sf_opportunity_id": opp["Id"],
                "qb_invoice_id": invoice["Id"] if invoice is not None else None,
                "category": category.value,
                "closed_won_home": to_home(amount, opp.get("CurrencyIsoCode")),
                "invoiced_home": invoiced,
            }
        )

    for invoice in invoices:
        month = month_of(invoice["TxnDate"])
        if (month, invoice["Id"]) in carried:
            continue
        ref = opportunity_ref(invoice.get("PrivateNote"))
        opp = opportunities.get(ref) if ref else None
        live = is_live(invoice)
        if not live:
            category = Category.VOIDED_OR_DELETED
        elif ref and [i["Id"] for i in linked[ref] if is_live(i)].index(invoice["Id"]) > 0:
            category = Category.DUPLICATE_INVOICE
        elif closed_won(opp) and month_of(opp["CloseDate"]) != month:
            category = Category.TIMING_DIFFERENCE
        else:
            category = Category.INVOICED_WITHOUT_OPPORTUNITY
        rows.append(
            {
                "month": month,
                "sf_opportunity_id": ref,
                "qb_invoice_id": invoice["Id"],
                "category": category.value,
                "closed_won_home": ZERO,
                "invoiced_home": invoice_home(invoice) if live else ZERO,
            }
        )

    rows.sort(key=lambda r: (r["month"], r["sf_opportunity_id"] or "", qbo_id_key(r["qb_invoice_id"] or "0")))
    return rows


def bridge(rows: list[dict]) -> dict[str, dict[str, Decimal]]:
    """Per month: Closed Won total, Invoiced total and the variance per category."""
    out: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        month = out.setdefault(row["month"], {"closed_won": ZERO, "invoiced": ZERO})
        month["closed_won"] += row["closed_won_home"]
        month["invoiced"] += row["invoiced_home"]
        month[row["category"]] = month.get(row["category"], ZERO) + row["invoiced_home"] - row["closed_won_home"]
    return out
