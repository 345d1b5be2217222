"""QBO billing: Items, Invoices, Payments and CreditMemos, made to carry out each billing plan.

Invoices are first planned (customer, date, lines, note), then every transaction gets its Id
in date order, as QBO hands them out, then they are rendered in QBO's JSON shape. The
category each case is meant to produce is recorded as `intended` rows; `truth.py` computes
the categories independently from the rendered data and a test checks the two agree.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from ledgerlink.reconcile.rules import DEFAULT_RATES
from sandbox.generator.companies import TERM_DAYS
from sandbox.generator.context import CURRENCY_NAMES, Company, Context, between, pick

INCOME_ACCOUNT = {"value": "79", "name": "Sales of Product Income"}
FEE_ITEMS = (("Shipping & Handling", "SHIP", 4500), ("Expedite Fee", "EXP", 15000))


class Txn:
    """A planned QBO transaction (invoice, credit memo or payment)."""

    __slots__ = (
        "kind", "seq", "day", "customer", "currency", "lines", "note", "voided", "void_day", "id", "doc",
        "payments", "credit", "credit_applied", "invoice", "paid", "unapplied", "ref_num",
    )

    def __init__(self, kind: str, seq: int, day: date, customer: dict, currency: str):
        self.kind, self.seq, self.day, self.customer, self.currency = kind, seq, day, customer, currency
        self.lines: list[tuple] = []  # invoices/credit memos: (item, description, qty, unit_cents)
        self.note: str | None = None
        self.voided = False
        self.void_day: date | None = None
        self.id = self.doc = None
        self.payments: list[Txn] = []  # payments applied to this invoice
        self.credit: Txn | None = None  # credit memo against this invoice
        self.credit_applied = 0
        self.invoice: Txn | None = None  # credit memo: its invoice
        self.paid: list[tuple[Txn, int]] = []  # payment: (txn, cents) it pays
        self.unapplied = 0
        self.ref_num: str | None = None

    @property
    def total(self) -> int:
        return 0 if self.voided else sum(qty * unit for _, _, qty, unit in self.lines)


LINE_IDS = tuple(str(n) for n in range(64))


def _home_cents(cents: int, rate: Decimal) -> int:
    """Home-currency cents of a document amount, half up (= HomeTotalAmt to the cent)."""
    return int((Decimal(cents) * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _convert(cents: int, from_currency: str, to_currency: str) -> int:
    if from_currency == to_currency:
        return cents
    value = Decimal(cents) * DEFAULT_RATES[from_currency] / DEFAULT_RATES[to_currency]
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def make_items(ctx: Context) -> dict[str, dict]:
    """One Service item per product (Name = product name, Sku = product code), plus fees."""
    created = ctx.qbo_time(ctx.stamp(ctx.as_of - timedelta(days=1300)))
    usd_price = {
        e["Product2Id"]: e["UnitPrice"] for e in ctx.salesforce["PricebookEntry"] if e["CurrencyIsoCode"] == "USD"
    }
    items, by_product = [], {}
    rows = [(p["Id"], p["Name"], p["ProductCode"], usd_price[p["Id"]], p["IsActive"]) for p in ctx.salesforce["Product2"] if not p["IsDeleted"]]
    rows += [(None, name, sku, ctx.cents(cents), True) for name, sku, cents in FEE_ITEMS]
    for product_id, name, sku, price, active in rows:
        item = {
            "Id": ctx.qbo_ids.next("Item", start=3),
            "SyncToken": "0",
            "MetaData": {"CreateTime": created, "LastUpdatedTime": created},
            "Name": name,
            "FullyQualifiedName": name,
            "Sku": sku,
            "Description": name,
            "Type": "Service",
            "UnitPrice": price,
            "Taxable": False,
            "Active": active,
            "IncomeAccountRef": dict(INCOME_ACCOUNT),
            "TrackQtyOnHand": False,
            "domain": "QBO",
            "sparse": False,
        }
        items.append(item)
        by_product[product_id or sku] = item
    ctx.qbo["Item"] = items
    return by_product


class Biller:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.rng = ctx.rng
        self.seq = 0
        self.invoices: list[Txn] = []
        self.others: list[Txn] = []  # credit memos and payments
        # (month, opportunity Id or None, Txn or None, category) the plan means to produce
        self.intended: list[tuple] = []
        self.items = make_items(ctx)
        self.customers = {c["Id"]: c for c in ctx.qbo["Customer"]}
        self.billable = [co for co in ctx.companies if co.qb_customers]
        self.amount_line_mismatch: list[str] = []

    # --- building blocks ------------------------------------------------------------------

    def txn(self, kind: str, day: date, customer_id: str) -> Txn:
        """A transaction in the customer's currency (QBO allows no other)."""
        self.seq += 1
        customer = self.customers[customer_id]
        t = Txn(kind, self.seq, day, customer, customer["CurrencyRef"]["value"])
        (self.invoices if kind == "Invoice" else self.others).append(t)
        return t

    def note_for(self, opp: dict) -> str:
        rng = self.rng
        style = int(rng.random() * 6)
        if style == 0:
            return opp["Id"]
        if style == 1:
            return f"SF opp {opp['Id']}"
        if style == 2:
            return f"Salesforce opportunity {opp['Id']} ({opp['Name']})"
        if style == 3:
            return f"PO {between(rng, 1000, 99999)} / {opp['Id']}"
        if style == 4:
            return f"Opp: {opp['Id']} - keyed by {pick(rng, ('AP', 'JS', 'MK', 'finance'))}"
        return f"{opp['Name']}\nRef {opp['Id']}"

    def opp_lines(self, items: list[dict], to_currency: str, from_currency: str) -> list[tuple]:
        lines = []
        for li in items:
            item = self.items[li["Product2Id"]]
            unit = _convert(int(li["UnitPrice"] * 100), from_currency, to_currency)
            lines.append((item, li["Name"], int(li["Quantity"]), unit))
        return lines

    def same_month_day(self, close: date) -> date:
        day = close + timedelta(days=pick(self.rng, (0, 0, 1, 2, 3, 5, 7, 10)))
        return min(day, _month_end(close), self.ctx.as_of)

    def intend(self, month_day: date, opp_id: str | None, invoice: Txn | None, category: str) -> None:
        self.intended.append((month_day.isoformat()[:7], opp_id, invoice, category))

    def invoice_for(self, opp: dict, customer_id: str, day: date, lines: list[tuple]) -> Txn:
        invoice = self.txn("Invoice", day, customer_id)
        invoice.lines = lines
        invoice.note = self.note_for(opp)
        return invoice

    # --- the plans ------------------------------------------------------------------------

    def bill_opportunity(self, opp: dict, items: list[dict], company: Company, plan: str) -> None:
        rng = self.rng
        as_of = self.ctx.as_of
        close = opp["CloseDate"]
        customer_id = company.qb_customers[0]
        customer_currency = company.currency
        lines = self.opp_lines(items, customer_currency, opp["CurrencyIsoCode"])
        day = self.same_month_day(close)
        opp_id = opp["Id"]
        if plan == "NOT_INVOICED":
            self.intend(close, opp_id, None, plan)
        elif plan in ("MATCHED", "CURRENCY_DIFFERENCE"):
            if plan == "MATCHED" and rng.random() < 0.05:
                # Off by one cent on a single-unit line: within tolerance, still MATCHED.
                for n, (item, desc, qty, unit) in enumerate(lines):
                    if qty == 1 and unit > 100:
                        lines[n] = (item, desc, qty, unit - 1)
                        break
            self.intend(close, opp_id, self.invoice_for(opp, customer_id, day, lines), plan)
        elif plan == "TIMING_DIFFERENCE":
            next_month = _month_end(close) + timedelta(days=1)
            if next_month <= as_of and rng.random() < 0.8:
                day = min(next_month + timedelta(days=between(rng, 0, 9)), as_of)
            else:  # invoiced in advance, before the deal was marked won
                day = close.replace(day=1) - timedelta(days=between(rng, 1, 10))
            invoice = self.invoice_for(opp, customer_id, day, lines)
            self.intend(close, opp_id, invoice, plan)
            self.intend(day, opp_id, invoice, plan)
        elif plan == "AMOUNT_MISMATCH":
            if rng.random() < 0.3:
                # Someone typed the amount over the line items in Salesforce.
                amount = opp["Amount"]
                typed = (amount / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 100
                if abs(typed - amount) <= Decimal("0.01"):
                    typed = amount + pick(rng, (-1, 1)) * self.ctx.cents(between(rng, 5000, 50000))
                if typed <= 0:
                    typed = amount * 2
                opp["Amount"] = typed.quantize(Decimal("0.01"))
                self.amount_line_mismatch.append(opp_id)
            elif rng.random() < 0.5:
                fee_item = self.items[pick(rng, FEE_ITEMS)[1]]
                lines.append((fee_item, fee_item["Name"], 1, _convert(int(fee_item["UnitPrice"] * 100), "USD", customer_currency)))
            else:
                n = int(rng.random() * len(lines))
                item, desc, qty, unit = lines[n]
                changed = unit * pick(rng, (85, 90, 95, 105, 110)) // 100
                lines[n] = (item, desc, qty, changed if changed != unit else unit + 100)
            self.intend(close, opp_id, self.invoice_for(opp, customer_id, day, lines), plan)
        elif plan == "PARTIALLY_INVOICED":
            keep = between(rng, 1, len(lines) - 1)
            self.intend(close, opp_id, self.invoice_for(opp, customer_id, day, lines[:keep]), plan)
        elif plan == "CREDITED":
            invoice = self.invoice_for(opp, customer_id, day, lines)
            credit_day = min(day + timedelta(days=between(rng, 3, 45)), as_of)
            memo = self.txn("CreditMemo", credit_day, customer_id)
            memo.invoice = invoice
            invoice.credit = memo
            item, desc, qty, unit = pick(rng, lines)
            share = pick(rng, (100, 100, 50, 20, 10))
            credit_cents = max(1, qty * unit * share // 100)
            memo.lines = [(item, f"Credit: {desc}", 1, credit_cents)]
            memo.note = f"Credit against invoice for {opp['Name']}"
            self.intend(close, opp_id, invoice, plan)
        elif plan == "DUPLICATE_INVOICE":
            first = self.invoice_for(opp, customer_id, day, lines)
            second_day = min(day + timedelta(days=pick(rng, (0, 1, 3, 7, 14, 25))), as_of)
            second = self.invoice_for(opp, customer_id, second_day, list(lines))
            self.intend(close, opp_id, first, plan)
            self.intend(second_day, opp_id, second, plan)
        elif plan == "VOIDED_OR_DELETED":
            invoice = self.invoice_for(opp, customer_id, day, lines)
            self.void(invoice)
            self.intend(close, opp_id, invoice, plan)
        elif plan == "VOIDED_REISSUED":
            voided = self.invoice_for(opp, customer_id, day, list(lines))
            self.void(voided)
            again = min(day + timedelta(days=between(rng, 0, 5)), _month_end(close), as_of)
            reissued = self.invoice_for(opp, customer_id, again, lines)
            self.intend(close, opp_id, reissued, "MATCHED")
            self.intend(day, opp_id, voided, "VOIDED_OR_DELETED")
        elif plan == "CUSTOMER_MISMATCH":
            wrong = self.wrong_customer(company)
            wrong_currency = self.customers[wrong]["CurrencyRef"]["value"]
            lines = self.opp_lines(items, wrong_currency, opp["CurrencyIsoCode"])
            self.intend(close, opp_id, self.invoice_for(opp, wrong, day, lines), plan)
        else:
            raise ValueError(f"unknown billing plan {plan!r} for {opp_id}")

    def void(self, invoice: Txn) -> None:
        invoice.voided = True
        invoice.void_day = min(invoice.day + timedelta(days=between(self.rng, 0, 6)), self.ctx.as_of)
        invoice.note = f"Voided - {invoice.note}"

    def wrong_customer(self, company: Company) -> str:
        """Another company's customer: the look-alike sibling if there is one."""
        if company.sibling_of is not None:
            sibling = self.ctx.companies[company.sibling_of]
            if sibling.qb_customers:
                return sibling.qb_customers[0]
        billable = self.billable
        start = int(self.rng.random() * len(billable))
        for n in range(len(billable)):
            co = billable[(start + n) % len(billable)]
            if co is not company and co.currency == company.currency:
                return co.qb_customers[0]
        return next(co.qb_customers[0] for co in billable if co is not company)

    def bill_stray(self, opp: dict, company: Company) -> None:
        """An invoice citing an opportunity that is not (or no longer) Closed Won."""
        day = min(opp["CloseDate"], self.ctx.as_of)
        invoice = self.invoice_for(opp, company.qb_customers[0], day, self.random_lines(company.currency))
        self.intend(day, opp["Id"], invoice, "INVOICED_WITHOUT_OPPORTUNITY")

    def random_lines(self, currency: str) -> list[tuple]:
        rng = self.rng
        products = [i for key, i in self.items.items() if i["Active"] and key not in {s for _, s, _ in FEE_ITEMS}]
        chosen = rng.sample(products, min(len(products), pick(rng, (1, 1, 2, 3))))
        return [
            (item, item["Name"], pick(rng, (1, 1, 2, 4, 10)), _convert(int(item["UnitPrice"] * 100), "USD", currency))
            for item in chosen
        ]

    def bill_orphans(self) -> None:
        """Invoices keyed in QBO with no opportunity: QBO-only customers and one-off sales."""
        rng = self.rng
        as_of = self.ctx.as_of
        planned = len(self.invoices)
        targets = [co for co in self.billable if not co.sf_accounts]
        orphans = [(co, between(rng, 1, 4)) for co in targets]
        extra = max(2, planned * 3 // 100)
        orphans += [(pick(rng, self.billable), 1) for _ in range(extra)]
        notes = (None, None, "PO {n}", "Hand-keyed", "Consulting hours {n}", "Replacement parts")
        for company, count in orphans:
            for _ in range(count):
                day = as_of - timedelta(days=between(rng, 0, 540))
                customer_id = pick(rng, company.qb_customers) if rng.random() < 0.3 else company.qb_customers[0]
                invoice = self.txn("Invoice", day, customer_id)
                invoice.lines = self.random_lines(company.currency)
                note = pick(rng, notes)
                invoice.note = note.format(n=between(rng, 1000, 99999)) if note else None
                if rng.random() < 0.08:
                    invoice.note = invoice.note or "Entered twice"
                    self.void(invoice)
                    self.intend(day, None, invoice, "VOIDED_OR_DELETED")
                else:
                    self.intend(day, None, invoice, "INVOICED_WITHOUT_OPPORTUNITY")

    # --- money in -------------------------------------------------------------------------

    def plan_payments(self) -> None:
        rng = self.rng
        as_of = self.ctx.as_of
        for invoice in self.invoices:
            if invoice.voided:
                continue
            total = invoice.total
            if invoice.credit is not None and rng.random() < 0.5:
                applied = min(invoice.credit.total, total)
                invoice.credit_applied = applied
                application = self.txn("Payment", invoice.credit.day, invoice.customer["Id"])
                application.paid = [(invoice, applied), (invoice.credit, applied)]
                invoice.payments.append(application)
                total -= applied
            if total <= 0:
                continue
            due = invoice.day + timedelta(days=TERM_DAYS[invoice.customer["SalesTermRef"]["value"]])
            overdue = (as_of - due).days
            if overdue <= 0:
                weights = (25, 10, 65)
            elif overdue <= 30:
                weights = (55, 10, 35)
            elif overdue <= 60:
                weights = (75, 8, 17)
            elif overdue <= 90:
                weights = (85, 5, 10)
            else:
                weights = (92, 3, 5)
            outcome = rng.choices(("paid", "partial", "open"), weights)[0]
            if outcome == "open":
                continue
            terms = (due - invoice.day).days
            pay_day = min(invoice.day + timedelta(days=between(rng, 0, terms + 25)), as_of)
            if outcome == "partial":
                amount = total * between(rng, 20, 80) // 100
                if amount > 0:
                    self.payment(invoice, pay_day, amount)
                continue
            if rng.random() < 0.1 and total > 100:
                first = total * pick(rng, (25, 50)) // 100
                self.payment(invoice, pay_day, first)
                second_day = min(pay_day + timedelta(days=between(rng, 5, 30)), as_of)
                self.payment(invoice, second_day, total - first)
            elif rng.random() < 0.04:
                self.payment(invoice, pay_day, total, overpaid=pick(rng, (100, 2500, 10000, total // 10 + 1)))
            else:
                self.payment(invoice, pay_day, total)

    def payment(self, invoice: Txn, day: date, cents: int, overpaid: int = 0) -> None:
        payment = self.txn("Payment", day, invoice.customer["Id"])
        payment.paid = [(invoice, cents)]
        payment.unapplied = overpaid
        payment.ref_num = str(between(self.rng, 1000, 999999)) if self.rng.random() < 0.7 else None
        invoice.payments.append(payment)

    # --- ids and rendering ----------------------------------------------------------------

    def assign_ids(self) -> None:
        order = {"Invoice": 0, "CreditMemo": 1, "Payment": 2}
        everything = sorted(self.invoices + self.others, key=lambda t: (t.day, order[t.kind], t.seq))
        doc = 1000
        for t in everything:
            t.id = self.ctx.qbo_ids.next("Txn", start=130)
            if t.kind != "Payment":
                doc += 1
                t.doc = str(doc) if t.kind == "Invoice" else f"CM-{doc}"
        self.invoices.sort(key=lambda t: int(t.id))
        self.others.sort(key=lambda t: int(t.id))

    def render(self) -> None:
        ctx = self.ctx
        cents = ctx.cents
        invoices, memos, payments = [], [], []
        last_touch: dict[str, str] = defaultdict(str)
        balances: dict[str, int] = defaultdict(int)
        for t in self.invoices:
            rate = DEFAULT_RATES[t.currency]
            total = t.total
            # Payments and credit applications both pay an invoice down.
            paid = sum(c for p in t.payments for target, c in p.paid if target is t)
            balance = 0 if t.voided else total - paid
            balances[t.customer["Id"]] += balance
            created = ctx.stamp(t.day)
            touches = [created] + [ctx.stamp(p.day) for p in t.payments]
            if t.voided:
                touches.append(ctx.stamp(t.void_day))
            updated = max(touches)
            lines = []
            for n, (item, desc, qty, unit) in enumerate(t.lines, start=1):
                lines.append(
                    {
                        "Id": LINE_IDS[n] if n < len(LINE_IDS) else str(n),
                        "LineNum": n,
                        "Description": desc,
                        "Amount": cents(0 if t.voided else qty * unit),
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": item["Id"], "name": item["Name"]},
                            "Qty": 0 if t.voided else qty,
                            "UnitPrice": cents(unit),
                        },
                    }
                )
            lines.append({"Amount": cents(total), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
            invoice = {
                "Id": t.id,
                "SyncToken": str(len(touches) - 1),
                "MetaData": {"CreateTime": ctx.qbo_time(created), "LastUpdatedTime": ctx.qbo_time(updated)},
                "DocNumber": t.doc,
                "TxnDate": t.day.isoformat(),
                "DueDate": (t.day + timedelta(days=TERM_DAYS[t.customer["SalesTermRef"]["value"]])).isoformat(),
                "CustomerRef": {"value": t.customer["Id"], "name": t.customer["DisplayName"]},
                "SalesTermRef": dict(t.customer["SalesTermRef"]),
                "CurrencyRef": {"value": t.currency, "name": CURRENCY_NAMES[t.currency]},
                "ExchangeRate": rate,
                "Line": lines,
                "TotalAmt": cents(total),
                "Balance": cents(balance),
                "HomeTotalAmt": cents(_home_cents(total, rate)),
                "LinkedTxn": [{"TxnId": p.id, "TxnType": "Payment"} for p in t.payments],
                "EmailStatus": "EmailSent" if ctx.rng.random() < 0.7 else "NotSet",
                "PrintStatus": "NotSet",
                "ApplyTaxAfterDiscount": False,
                "domain": "QBO",
                "sparse": False,
            }
            if t.note is not None:
                invoice["PrivateNote"] = t.note
            invoices.append(invoice)
            last_touch[t.customer["Id"]] = max(last_touch[t.customer["Id"]], invoice["MetaData"]["LastUpdatedTime"])
        for t in self.others:
            rate = DEFAULT_RATES[t.currency]
            stamp = ctx.qbo_time(ctx.stamp(t.day))
            meta = {"CreateTime": stamp, "LastUpdatedTime": stamp}
            ref = {"value": t.customer["Id"], "name": t.customer["DisplayName"]}
            currency = {"value": t.currency, "name": CURRENCY_NAMES[t.currency]}
            if t.kind == "CreditMemo":
                total = t.total
                remaining = total - t.invoice.credit_applied
                # Customer.Balance, as QBO keeps it: open invoices minus unused credits.
                balances[t.customer["Id"]] -= remaining
                memos.append(
                    {
                        "Id": t.id,
                        "SyncToken": "0" if remaining == total else "1",
                        "MetaData": meta,
                        "DocNumber": t.doc,
                        "TxnDate": t.day.isoformat(),
                        "CustomerRef": ref,
                        "CurrencyRef": currency,
                        "ExchangeRate": rate,
                        "Line": [
                            {
                                "Id": "1",
                                "LineNum": 1,
                                "Description": desc,
                                "Amount": cents(qty * unit),
                                "DetailType": "SalesItemLineDetail",
                                "SalesItemLineDetail": {
                                    "ItemRef": {"value": item["Id"], "name": item["Name"]},
                                    "Qty": qty,
                                    "UnitPrice": cents(unit),
                                },
                            }
                            for item, desc, qty, unit in t.lines
                        ],
                        "TotalAmt": cents(total),
                        "RemainingCredit": cents(remaining),
                        "Balance": cents(remaining),
                        "HomeTotalAmt": cents(_home_cents(total, rate)),
                        "InvoiceRef": {"value": t.invoice.id},
                        "PrivateNote": t.note,
                        "domain": "QBO",
                        "sparse": False,
                    }
                )
            else:
                applied = sum(c for target, c in t.paid if target.kind == "Invoice")
                is_credit_application = any(target.kind == "CreditMemo" for target, _ in t.paid)
                total = 0 if is_credit_application else applied + t.unapplied
                payment = {
                    "Id": t.id,
                    "SyncToken": "0",
                    "MetaData": meta,
                    "TxnDate": t.day.isoformat(),
                    "CustomerRef": ref,
                    "CurrencyRef": currency,
                    "ExchangeRate": rate,
                    "TotalAmt": cents(total),
                    "UnappliedAmt": cents(t.unapplied),
                    "ProcessPayment": False,
                    "Line": [
                        {"Amount": cents(c), "LinkedTxn": [{"TxnId": target.id, "TxnType": target.kind}]}
                        for target, c in t.paid
                    ],
                    "domain": "QBO",
                    "sparse": False,
                }
                if t.ref_num:
                    payment["PaymentRefNum"] = t.ref_num
                balances[t.customer["Id"]] -= t.unapplied
                payments.append(payment)
            last_touch[t.customer["Id"]] = max(last_touch[t.customer["Id"]], stamp)
        for customer in ctx.qbo["Customer"]:
            balance = cents(balances.get(customer["Id"], 0))
            customer["Balance"] = customer["BalanceWithJobs"] = balance
            touched = last_touch.get(customer["Id"])
            if touched and touched > customer["MetaData"]["LastUpdatedTime"]:
                customer["MetaData"] = {**customer["MetaData"], "LastUpdatedTime": touched}
        ctx.qbo["Invoice"] = invoices
        ctx.qbo["CreditMemo"] = memos
        ctx.qbo["Payment"] = payments

    def resolved_intended(self) -> list[dict]:
        return [
            {"month": month, "sf_opportunity_id": opp_id, "qb_invoice_id": t.id if t else None, "category": category}
            for month, opp_id, t, category in self.intended
        ]


def make_billing(ctx: Context) -> list[dict]:
    """Bill every plan; returns the intended reconciliation rows (without amounts)."""
    biller = Biller(ctx)
    rng = ctx.rng
    items_of: dict[str, list[dict]] = defaultdict(list)
    for li in ctx.salesforce["OpportunityLineItem"]:
        if not li["IsDeleted"]:
            items_of[li["OpportunityId"]].append(li)
    company_of_account = {a: co for co in ctx.companies for a in co.sf_accounts}
    for opp in ctx.salesforce["Opportunity"]:
        company = company_of_account[opp["AccountId"]]
        plan = ctx.plans.get(opp["Id"])
        if plan:
            biller.bill_opportunity(opp, items_of[opp["Id"]], company, plan)
        elif opp["IsWon"] and not opp["IsDeleted"]:
            biller.intend(opp["CloseDate"], opp["Id"], None, "NOT_INVOICED")  # no QBO customer yet
        elif company.qb_customers and opp["IsClosed"] and opp["CloseDate"] <= ctx.as_of:
            # Deleted Closed Won deals that were billed anyway, and lost deals billed by mistake.
            if (opp["IsDeleted"] and opp["IsWon"] and rng.random() < 0.5) or rng.random() < 0.005:
                biller.bill_stray(opp, company)
    biller.bill_orphans()
    biller.plan_payments()
    biller.assign_ids()
    biller.render()
    ctx.extras["amount_line_mismatch_opportunity_ids"] = biller.amount_line_mismatch
    return biller.resolved_intended()
