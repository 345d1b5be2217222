"""Invoice status and aging as plain functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledgerlink.load.status import (
    AgingBucket,
    InvoiceFacts,
    InvoiceStatus,
    Payment,
    aging_bucket,
    customer_balances,
    invoice_state,
)

AS_OF = date(2026, 11, 20)


def inv(total="1000", balance="1000", due=date(2026, 12, 1), txn=date(2026, 11, 1), **kw) -> InvoiceFacts:
    return InvoiceFacts(id="1", doc_number="SF-1", customer_id="7", txn_date=txn, due_date=due,
                        total_amt=Decimal(total), balance=Decimal(balance), **kw)


@pytest.mark.parametrize("days,bucket", [(-5, "Current"), (0, "Current"), (1, "1-30"), (30, "1-30"), (31, "31-60"),
                                         (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "91+"), (400, "91+")])
def test_aging_buckets_by_days_past_due(days, bucket):
    assert aging_bucket(days).value == bucket


def test_open_invoice_not_yet_due():
    state = invoice_state(inv(), AS_OF)
    assert state.status is InvoiceStatus.OPEN
    assert state.aging_bucket is AgingBucket.CURRENT and state.days_outstanding == 19
    assert state.amount_paid == 0 and state.balance_due == Decimal("1000")


def test_partial_payment_then_overdue():
    paid = (Payment(date(2026, 11, 10), Decimal("400")),)
    state = invoice_state(inv(balance="600", payments=paid), AS_OF)
    assert state.status is InvoiceStatus.PARTIALLY_PAID
    assert state.amount_paid == Decimal("400") and state.last_payment_date == date(2026, 11, 10)
    late = invoice_state(inv(balance="600", payments=paid, due=date(2026, 9, 1)), AS_OF)
    assert late.status is InvoiceStatus.OVERDUE and late.aging_bucket is AgingBucket.DAYS_61_90


def test_paid_invoice_is_not_aged_and_counts_days_to_payment():
    state = invoice_state(inv(balance="0", payments=(Payment(date(2026, 11, 15), Decimal("1000")),)), AS_OF)
    assert state.status is InvoiceStatus.PAID
    assert state.aging_bucket is None and state.days_outstanding == 14 and state.balance_due == 0


def test_voided_invoice():
    state = invoice_state(inv(total="0", balance="0", private_note="Voided - Salesforce Opportunity x"), AS_OF)
    assert state.status is InvoiceStatus.VOIDED and state.balance_due == 0 and state.aging_bucket is None
    assert invoice_state(inv(deleted=True), AS_OF).status is InvoiceStatus.VOIDED


def test_credit_memo_settling_the_invoice_reads_credited_not_paid():
    state = invoice_state(inv(balance="0", credited=Decimal("1000")), AS_OF)
    assert state.status is InvoiceStatus.CREDITED and state.amount_paid == 0
    # Still owing and past due: Overdue is what somebody must act on.
    overdue = invoice_state(inv(balance="500", credited=Decimal("500"), due=date(2026, 10, 1)), AS_OF)
    assert overdue.status is InvoiceStatus.OVERDUE


def test_customer_balances_skip_voided_and_split_overdue():
    invoices = [inv(balance="100", due=date(2026, 10, 1)), inv(balance="50"),
                inv(total="0", balance="0", private_note="Voided")]
    assert customer_balances(invoices, AS_OF) == (Decimal("150"), Decimal("100"))
