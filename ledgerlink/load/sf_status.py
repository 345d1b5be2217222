"""What Salesforce should show about QBO: invoice status on Opportunities, balances on Accounts.

Computed from staging (the QBO state extracted at the start of the run), plus the invoices this
pipeline created since (`sync.invoice_xref.entity`), so a record created tonight reads the same
tonight as it will after tomorrow's extract and is not pushed twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from psycopg.rows import dict_row

from ledgerlink.db import read_sql
from ledgerlink.load.status import InvoiceFacts, Payment, customer_balances, invoice_state
from ledgerlink.quality.quarantine import open_quarantine_ids
from ledgerlink.reconcile.rules import opportunity_ref

OPPORTUNITY_FIELDS = (
    "QBO_Invoice_Id__c", "QBO_Invoice_Number__c", "QBO_Invoice_Link__c", "QBO_Invoice_Status__c",
    "QBO_Amount_Paid__c", "QBO_Balance_Due__c", "QBO_Last_Payment_Date__c", "QBO_Days_Outstanding__c",
    "QBO_Aging_Bucket__c",
)
ACCOUNT_FIELDS = ("QBO_Customer_Id__c", "QBO_Open_Balance__c", "QBO_Overdue_Balance__c")

PRODUCTION_APP = "https://app.qbo.intuit.com"
SANDBOX_APP = "https://app.sandbox.qbo.intuit.com"


def invoice_link(invoice_id: str, app_url: str = PRODUCTION_APP) -> str:
    return f"{app_url.rstrip('/')}/app/invoice?txnId={invoice_id}"


@dataclass(frozen=True)
class Update:
    object: str  # 'Opportunity' | 'Account'
    record_id: str
    fields: dict  # Salesforce field -> JSON value (None clears)
    # Name under which sync.sf_push_state remembers it, when one record is written by two steps
    # (status fields and customer fields of an Account are remembered apart).
    state_object: str | None = None

    @property
    def state_key(self) -> str:
        return self.state_object or self.object


def _rows(conn, name: str) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(read_sql(f"load/{name}.sql"))
        return cur.fetchall()


def _dec(value) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _facts_from_staging(row: dict) -> InvoiceFacts:
    payments = tuple(Payment(_date(p["date"]), _dec(p["amount"])) for p in row["payments"] or [])
    return InvoiceFacts(
        id=row["id"], doc_number=row["doc_number"], customer_id=row["customer_id"], txn_date=row["txn_date"],
        due_date=row["due_date"], total_amt=_dec(row["total_amt"]), balance=_dec(row["balance"]),
        currency=row["currency"], private_note=row["private_note"], deleted=row["_deleted"],
        payments=payments, credited=_dec(row["credited"]), exchange_rate=_dec(row["exchange_rate"] or 1),
    )


def _facts_from_entity(entity: dict) -> InvoiceFacts:
    """An invoice as QBO returned it on create (not extracted yet)."""
    return InvoiceFacts(
        id=str(entity["Id"]), doc_number=entity.get("DocNumber"),
        customer_id=(entity.get("CustomerRef") or {}).get("value"), txn_date=_date(entity.get("TxnDate")),
        due_date=_date(entity.get("DueDate")), total_amt=_dec(entity.get("TotalAmt")),
        balance=_dec(entity.get("Balance")), currency=(entity.get("CurrencyRef") or {}).get("value"),
        private_note=entity.get("PrivateNote"), exchange_rate=_dec(entity.get("ExchangeRate") or 1),
    )


def load_invoices(conn) -> dict[str, InvoiceFacts]:
    invoices = {r["id"]: _facts_from_staging(r) for r in _rows(conn, "invoice_facts")}
    with conn.cursor(row_factory=dict_row) as cur:
        for r in cur.execute("select qb_invoice_id, entity from sync.invoice_xref where entity is not null"):
            if r["qb_invoice_id"] not in invoices:
                invoices[r["qb_invoice_id"]] = _facts_from_entity(r["entity"])
    return invoices


def _id_order(invoice_id: str) -> tuple[int, str]:
    return (len(invoice_id), invoice_id)  # QBO Ids are numbers in strings


def opportunity_invoices(invoices: dict[str, InvoiceFacts], xref: dict[str, str]) -> dict[str, InvoiceFacts]:
    """The invoice each opportunity shows: its first live linked invoice (lowest Id), else its
    first linked one (the reconciliation rule). Links: PrivateNote references and our xref."""
    linked: dict[str, set[str]] = defaultdict(set)
    for inv in invoices.values():
        ref = opportunity_ref(inv.private_note)
        if ref:
            linked[ref].add(inv.id)
    for opp, invoice_id in xref.items():
        if invoice_id in invoices:
            linked[opp].add(invoice_id)
    chosen = {}
    for opp, ids in linked.items():
        ordered = sorted(ids, key=_id_order)
        live = [i for i in ordered if invoices[i].live]
        chosen[opp] = invoices[(live or ordered)[0]]
    return chosen


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def opportunity_fields(invoice: InvoiceFacts, as_of: date, app_url: str) -> dict:
    state = invoice_state(invoice, as_of)
    return {
        "QBO_Invoice_Id__c": invoice.id,
        "QBO_Invoice_Number__c": invoice.doc_number,
        "QBO_Invoice_Link__c": invoice_link(invoice.id, app_url),
        "QBO_Invoice_Status__c": state.status.value,
        "QBO_Amount_Paid__c": _money(state.amount_paid),
        "QBO_Balance_Due__c": _money(state.balance_due),
        "QBO_Last_Payment_Date__c": state.last_payment_date.isoformat() if state.last_payment_date else None,
        "QBO_Days_Outstanding__c": state.days_outstanding,
        "QBO_Aging_Bucket__c": state.aging_bucket.value if state.aging_bucket else None,
    }


def desired_updates(conn, *, as_of: date, app_url: str = PRODUCTION_APP) -> list[Update]:
    """Every Opportunity and Account field value Salesforce should hold now."""
    invoices = load_invoices(conn)
    with conn.cursor() as cur:
        xref = dict(cur.execute("select sf_opportunity_id, qb_invoice_id from sync.invoice_xref").fetchall())
        links = cur.execute(read_sql("load/customer_links.sql")).fetchall()
    targets = _rows(conn, "push_targets")
    live_opps = {r["id"] for r in targets if r["object"] == "Opportunity"}
    live_accounts = {r["id"] for r in targets if r["object"] == "Account"}
    # Quarantined invoices (or their payments) keep their last pushed values until fixed.
    held = {r["invoice_id"] for r in _rows(conn, "held_invoices")}
    # Held accounts (say, two claiming one QBO customer) keep theirs too: whose balance is it?
    held_accounts = set(open_quarantine_ids(conn, "staging.sf_account"))

    updates: list[Update] = []
    for opp_id, invoice in sorted(opportunity_invoices(invoices, xref).items()):
        if opp_id in live_opps and invoice.id not in held:
            updates.append(Update("Opportunity", opp_id, opportunity_fields(invoice, as_of, app_url)))

    by_customer: dict[str, list[InvoiceFacts]] = defaultdict(list)
    for inv in invoices.values():
        if inv.customer_id:
            by_customer[inv.customer_id].append(inv)
    account_customers: dict[str, list[str]] = defaultdict(list)
    for account, customer, _method in links:
        if account in live_accounts and account not in held_accounts and customer not in account_customers[account]:
            account_customers[account].append(customer)
    # QBO_Customer_Id__c is a unique external Id: when several (duplicate) accounts link to one
    # customer, only the first carries the Id; all of them carry the balances.
    id_owner: dict[str, str] = {}
    for account in sorted(account_customers):
        for customer in account_customers[account]:
            id_owner.setdefault(customer, account)
    for account in sorted(account_customers):
        customers = account_customers[account]
        if any(i.id in held for c in customers for i in by_customer[c]):
            continue  # a balance summed over a held invoice would be wrong either way
        own = [c for c in customers if id_owner[c] == account]
        open_total, overdue_total = _account_balances([i for c in customers for i in by_customer[c]], as_of)
        fields = {"QBO_Customer_Id__c": own[0] if own else None, "QBO_Open_Balance__c": open_total,
                  "QBO_Overdue_Balance__c": overdue_total}
        if not own:
            fields.pop("QBO_Customer_Id__c")
        updates.append(Update("Account", account, fields))
    return updates


def _account_balances(invoices: list[InvoiceFacts], as_of: date) -> tuple[float, float]:
    """Open and overdue balance; in the invoices' currency, or home currency when they mix."""
    currencies = {i.currency for i in invoices if i.live and i.balance > 0}
    if len(currencies) <= 1:
        open_balance, overdue = customer_balances(invoices, as_of)
    else:
        open_balance = overdue = Decimal(0)
        for inv in invoices:
            one_open, one_overdue = customer_balances([inv], as_of)
            open_balance += one_open * inv.exchange_rate
            overdue += one_overdue * inv.exchange_rate
    return _money(open_balance), _money(overdue)
