"""The reconciliation rules: shared by the report and by the sandbox generator's ground truth.

Month M (`YYYY-MM`); amounts compared in the document currency with a tolerance of one cent;
totals in home currency (USD by default), never mixing currencies in one sum.

Link between an opportunity and an invoice: an invoice belongs to an opportunity when its
`PrivateNote` contains the opportunity's 18-character Id (`OPPORTUNITY_REF`). LedgerLink
writes it on every invoice it creates; bookkeepers paste it when keying by hand. No other
(fuzzy) linking of invoices to opportunities is done: an unreferenced invoice is an orphan.
"Live" invoice = neither voided nor deleted. A voided QBO invoice has TotalAmt 0 and a
PrivateNote starting with "Voided".

Rows: one per Closed Won opportunity (IsWon, not deleted) with CloseDate in M, carrying its
first live linked invoice (lowest Id), or its first linked invoice if none is live; plus one
per invoice with TxnDate in M that is not already on an opportunity row of M.

Opportunity row category, first rule that applies wins:
 1. NOT_INVOICED          no linked invoice at all
 2. VOIDED_OR_DELETED     linked invoices exist but none is live
 3. DUPLICATE_INVOICE     two or more live linked invoices
 4. CUSTOMER_MISMATCH     the invoice's customer is not the QBO customer linked to the
                          opportunity's account (sync.customer_xref / ground truth)
 5. CURRENCY_DIFFERENCE   invoice currency differs from the opportunity currency
 6. CREDITED              a credit memo references the invoice (CreditMemo.InvoiceRef)
 7. PARTIALLY_INVOICED    invoice total < amount - tolerance and the invoice has fewer
                          sales lines than the opportunity has line items
 8. AMOUNT_MISMATCH       |invoice total - amount| > tolerance
 9. TIMING_DIFFERENCE     invoice TxnDate not in M
10. MATCHED

Invoice row category (invoice in M not on an opportunity row of M), first rule wins:
 1. VOIDED_OR_DELETED     the invoice is voided or deleted
 2. DUPLICATE_INVOICE     it is a second (or later) live invoice of an opportunity
 3. TIMING_DIFFERENCE     linked to a Closed Won opportunity that closed in another month
 4. INVOICED_WITHOUT_OPPORTUNITY   no reference, or the referenced opportunity is not
                          Closed Won (or is deleted)

Bridge for M: each row has closed_won_home (its opportunity's amount in home currency when
the opportunity closed in M, else 0) and invoiced_home (the home total of its live invoices
with TxnDate in M, counted once). Closed Won total + sum over categories of
(invoiced_home - closed_won_home) = Invoiced total, to the cent, by construction.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

TOLERANCE = Decimal("0.01")
HOME_CURRENCY = "USD"
# Home-currency units per one unit of foreign currency (QBO's ExchangeRate convention).
# The sandbox generator bills at these rates; the report converts opportunities with them.
DEFAULT_RATES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CAD": Decimal("0.73"),
}

OPPORTUNITY_REF = re.compile(r"\b006[A-Za-z0-9]{15}\b")


class Category(StrEnum):
    MATCHED = "MATCHED"
    NOT_INVOICED = "NOT_INVOICED"
    PARTIALLY_INVOICED = "PARTIALLY_INVOICED"
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
    INVOICED_WITHOUT_OPPORTUNITY = "INVOICED_WITHOUT_OPPORTUNITY"
    TIMING_DIFFERENCE = "TIMING_DIFFERENCE"
    CURRENCY_DIFFERENCE = "CURRENCY_DIFFERENCE"
    CREDITED = "CREDITED"
    VOIDED_OR_DELETED = "VOIDED_OR_DELETED"
    CUSTOMER_MISMATCH = "CUSTOMER_MISMATCH"
    DUPLICATE_INVOICE = "DUPLICATE_INVOICE"


def opportunity_ref(private_note: str | None) -> str | None:
    """The opportunity Id an invoice's PrivateNote refers to, if any."""
    match = OPPORTUNITY_REF.search(private_note or "")
    return match.group(0) if match else None
