"""Hand-written reconciliation scenarios: a few Salesforce records and QBO entities in the
sandbox Dataset shape, small enough to read the expected category off the test."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from sandbox.dataset import Dataset

STAMP = datetime(2026, 11, 1, tzinfo=UTC)
QBO_STAMP = "2026-11-01T00:00:00-08:00"


def sf_id(prefix: str, n: int) -> str:
    return f"{prefix}TST{n:012d}"


class Scenario:
    def __init__(self) -> None:
        self.dataset = Dataset(as_of=date(2026, 11, 22))
        self._n = itertools.count(1)
        self._qbo = itertools.count(100)
        self.links: list[tuple[str, str]] = []
        self.owner = self.user("Dana Seller")

    # --- Salesforce ---------------------------------------------------------------------------
    def _sf(self, obj: str, record: dict) -> dict:
        record.setdefault("IsDeleted", False)
        record.setdefault("SystemModstamp", STAMP)
        self.dataset.salesforce.setdefault(obj, []).append(record)
        return record

    def user(self, name: str) -> str:
        return self._sf("User", {"Id": sf_id("005", next(self._n)), "Name": name, "IsActive": True})["Id"]

    def account(self, name: str = "Acme Corp", *, currency: str = "USD", linked: bool = True) -> tuple[str, str]:
        """A Salesforce account and its QBO customer; linked in sync.customer_xref unless told not."""
        account_id = self._sf("Account", {"Id": sf_id("001", next(self._n)), "Name": name})["Id"]
        customer_id = self.customer(name, currency=currency)
        if linked:
            self.links.append((account_id, customer_id))
        return account_id, customer_id

    def customer(self, name: str, *, currency: str = "USD") -> str:
        customer_id = str(next(self._qbo))
        self._qbo_entity(
            "Customer", {"Id": customer_id, "DisplayName": name, "CurrencyRef": {"value": currency}, "Active": True}
        )
        return customer_id

    def opportunity(
        self,
        account: tuple[str, str] | str,
        amount: str | None,
        close: date,
        *,
        currency: str = "USD",
        won: bool = True,
        deleted: bool = False,
        line_items: int = 1,
        owner: str | None = None,
        name: str = "Deal",
    ) -> str:
        account_id = account[0] if isinstance(account, tuple) else account
        opp = self._sf(
            "Opportunity",
            {
                "Id": sf_id("006", next(self._n)),
                "Name": name,
                "AccountId": account_id,
                "OwnerId": owner or self.owner,
                "StageName": "Closed Won" if won else "Closed Lost",
                "IsWon": won,
                "IsClosed": True,
                "CloseDate": close,
                "Amount": Decimal(amount) if amount is not None else None,
                "CurrencyIsoCode": currency,
                "IsDeleted": deleted,
            },
        )
        for _ in range(line_items):
            self._sf(
                "OpportunityLineItem",
                {"Id": sf_id("00k", next(self._n)), "OpportunityId": opp["Id"], "Quantity": Decimal(1)},
            )
        return opp["Id"]

    # --- QBO ----------------------------------------------------------------------------------
    def _qbo_entity(self, name: str, entity: dict) -> dict:
        entity.setdefault("SyncToken", "0")
        entity.setdefault("MetaData", {"CreateTime": QBO_STAMP, "LastUpdatedTime": QBO_STAMP})
        self.dataset.qbo.setdefault(name, []).append(entity)
        return entity

    def invoice(
        self,
        customer: tuple[str, str] | str,
        total: str,
        txn_date: date,
        *,
        opp: str | None = None,
        note: str | None = None,
        currency: str = "USD",
        rate: str | None = None,
        lines: int = 1,
        voided: bool = False,
        deleted: bool = False,
        due: date | None = None,
        balance: str | None = None,
        invoice_id: str | None = None,
    ) -> str:
        customer_id = customer[1] if isinstance(customer, tuple) else customer
        invoice_id = invoice_id or str(next(self._qbo))
        total_amt = Decimal("0") if voided else Decimal(total)
        if note is None:
            note = f"Salesforce opportunity {opp}" if opp else "keyed by hand"
        if voided:
            note = f"Voided - {note}"
        each = (total_amt / lines).quantize(Decimal("0.01")) if lines else Decimal(0)
        line_list = [
            {"Id": str(i + 1), "DetailType": "SalesItemLineDetail", "Amount": each,
             "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": each}}
            for i in range(lines)
        ]
        line_list.append({"DetailType": "SubTotalLineDetail", "Amount": total_amt, "SubTotalLineDetail": {}})
        entity = {
            "Id": invoice_id,
            "DocNumber": f"INV-{invoice_id}",
            "CustomerRef": {"value": customer_id},
            "TxnDate": txn_date.isoformat(),
            "DueDate": (due or txn_date).isoformat(),
            "TotalAmt": total_amt,
            "Balance": Decimal(balance) if balance is not None else total_amt,
            "CurrencyRef": {"value": currency},
            "PrivateNote": note,
            "Line": line_list,
        }
        if rate is not None:
            entity["ExchangeRate"] = Decimal(rate)
            entity["HomeTotalAmt"] = (total_amt * Decimal(rate)).quantize(Decimal("0.01"))
        if deleted:
            entity["status"] = "Deleted"
        self._qbo_entity("Invoice", entity)
        return invoice_id

    def credit_memo(self, invoice_id: str, customer: tuple[str, str] | str, total: str, txn_date: date) -> str:
        customer_id = customer[1] if isinstance(customer, tuple) else customer
        memo_id = str(next(self._qbo))
        self._qbo_entity(
            "CreditMemo",
            {"Id": memo_id, "CustomerRef": {"value": customer_id}, "TxnDate": txn_date.isoformat(),
             "TotalAmt": Decimal(total), "InvoiceRef": {"value": invoice_id}, "CurrencyRef": {"value": "USD"}},
        )
        return memo_id

    def payment(self, invoice_id: str, customer: tuple[str, str] | str, amount: str, txn_date: date) -> str:
        customer_id = customer[1] if isinstance(customer, tuple) else customer
        payment_id = str(next(self._qbo))
        self._qbo_entity(
            "Payment",
            {"Id": payment_id, "CustomerRef": {"value": customer_id}, "TxnDate": txn_date.isoformat(),
             "TotalAmt": Decimal(amount),
             "Line": [{"Amount": Decimal(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}]},
        )
        return payment_id

    def finish(self) -> Dataset:
        self.dataset.truth.customer_links = list(self.links)
        return self.dataset
