"""Invoice status, amounts paid and aging, as plain functions of QBO facts and an as-of date.

As-of is the run's partition date. Aging counts days past the *due* date (QuickBooks' own
convention); an invoice with nothing left to pay is not aged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0")
CENT = Decimal("0.01")


class InvoiceStatus(StrEnum):
    OPEN = "Open"
    PARTIALLY_PAID = "Partially Paid"
    PAID = "Paid"
    OVERDUE = "Overdue"
    VOIDED = "Voided"
    CREDITED = "Credited"


class AgingBucket(StrEnum):
    CURRENT = "Current"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    DAYS_91_PLUS = "91+"


@dataclass(frozen=True)
class Payment:
    txn_date: date | None
    amount: Decimal  # the part of the payment applied to this invoice


@dataclass(frozen=True)
class InvoiceFacts:
    """What QBO says about one invoice (from staging, or from the create response)."""

    id: str
    doc_number: str | None
    customer_id: str | None
    txn_date: date | None
    due_date: date | None
    total_amt: Decimal
    balance: Decimal
    currency: str | None = None
    private_note: str | None = None
    deleted: bool = False
    payments: tuple[Payment, ...] = ()
    credited: Decimal = ZERO  # total of credit memos that reference the invoice
    voided_marker: bool = False  # QBO's own void flag when the source carries one
    exchange_rate: Decimal = Decimal(1)  # home-currency units per document-currency unit

    @property
    def voided(self) -> bool:
        """QBO voids set TotalAmt and Balance to 0 and prefix the memo with 'Voided'."""
        if self.deleted or self.voided_marker:
            return True
        note = (self.private_note or "").lstrip().lower()
        return self.total_amt == ZERO and note.startswith("voided")

    @property
    def live(self) -> bool:
        return not self.voided


@dataclass(frozen=True)
class InvoiceState:
    status: InvoiceStatus
    amount_paid: Decimal
    balance_due: Decimal
    last_payment_date: date | None
    days_outstanding: int | None
    aging_bucket: AgingBucket | None
    days_past_due: int | None = None
    extra: dict = field(default_factory=dict)


def aging_bucket(days_past_due: int) -> AgingBucket:
    if days_past_due <= 0:
        return AgingBucket.CURRENT
    if days_past_due <= 30:
        return AgingBucket.DAYS_1_30
    if days_past_due <= 60:
        return AgingBucket.DAYS_31_60
    if days_past_due <= 90:
        return AgingBucket.DAYS_61_90
    return AgingBucket.DAYS_91_PLUS


def invoice_state(invoice: InvoiceFacts, as_of: date) -> InvoiceState:
    """Status, paid amount, balance and aging of one invoice as of a date.

    Voided first. Amount paid counts money received (credit applications are not payments).
    Balances are QBO's current ones (staging is extracted at the start of the run); the as-of
    date only drives days outstanding and aging.
    """
    payments = invoice.payments
    paid = sum((p.amount for p in payments), ZERO)
    dates = [p.txn_date for p in payments if p.txn_date is not None and p.amount > ZERO]
    last_payment = max(dates) if dates else None

    if invoice.voided:
        return InvoiceState(InvoiceStatus.VOIDED, ZERO, ZERO, last_payment, None, None)

    balance = max(invoice.balance, ZERO)
    amount_paid = min(max(paid, ZERO), invoice.total_amt)
    settled = balance < CENT

    if settled:
        end = last_payment or as_of
        days_outstanding = (end - invoice.txn_date).days if invoice.txn_date else None
    else:
        days_outstanding = (as_of - invoice.txn_date).days if invoice.txn_date else None
    if days_outstanding is not None:
        days_outstanding = max(days_outstanding, 0)

    days_past_due = None
    bucket = None
    if not settled:
        due = invoice.due_date or invoice.txn_date
        days_past_due = (as_of - due).days if due else 0
        bucket = aging_bucket(days_past_due)

    # Settled: Credited when a credit memo took part, else Paid. Open balance: Overdue first (it
    # is what somebody has to act on), then Credited, Partially Paid, Open.
    if settled:
        status = InvoiceStatus.CREDITED if invoice.credited > ZERO else InvoiceStatus.PAID
    elif days_past_due is not None and days_past_due > 0:
        status = InvoiceStatus.OVERDUE
    elif invoice.credited > ZERO:
        status = InvoiceStatus.CREDITED
    elif amount_paid > ZERO or balance < invoice.total_amt:
        status = InvoiceStatus.PARTIALLY_PAID
    else:
        status = InvoiceStatus.OPEN

    return InvoiceState(
        status=status,
        amount_paid=amount_paid,
        balance_due=balance,
        last_payment_date=last_payment,
        days_outstanding=days_outstanding,
        aging_bucket=bucket,
        days_past_due=days_past_due,
    )


def customer_balances(invoices: list[InvoiceFacts], as_of: date) -> tuple[Decimal, Decimal]:
    """(open balance, overdue balance) of a customer's live invoices as of a date."""
    open_balance = ZERO
    overdue = ZERO
    for inv in invoices:
        if not inv.live:
            continue
        balance = max(inv.balance, ZERO)
        open_balance += balance
        due = inv.due_date or inv.txn_date
        if balance > ZERO and due is not None and due < as_of:
            overdue += balance
    return open_balance, overdue
