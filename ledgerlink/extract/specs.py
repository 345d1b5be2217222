"""What we extract: one declarative entry per source object.

Adding an object is one entry in `SALESFORCE_OBJECTS` or `QBO_ENTITIES`. The staging table
(`staging.sf_<object>` / `staging.qb_<entity>`), its typed columns, the SOQL / QBO query, the
Dagster asset and its metadata are all derived from the entry. Every staging table also has
`raw jsonb` (the record as the API sent it), `_extracted_at`, `_run_id` and `_deleted`.

Column types are Postgres types; a typed column is for what later stages use, everything else
stays reachable in `raw`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(field_name: str) -> str:
    """`BillingPostalCode` -> `billing_postal_code`; `QBO_Invoice_Id__c` -> `qbo_invoice_id`."""
    name = field_name.removesuffix("__c").replace(".", "_")
    return _CAMEL.sub("_", name).lower().replace("__", "_")


@dataclass(frozen=True)
class Column:
    name: str  # Postgres column
    source: str  # Salesforce field name, or dotted QBO JSON path ("CustomerRef.value", "LinkedTxn.0.TxnId")
    type: str = "text"


@dataclass(frozen=True)
class SalesforceObject:
    """A Salesforce sObject extracted with a Bulk API 2.0 `queryAll` job."""

    name: str
    fields: dict[str, str]  # API field name -> Postgres type; `Id` is implied
    watermark_field: str = "SystemModstamp"
    indexes: tuple[str, ...] = ()  # staging columns later stages join or filter on

    @property
    def table(self) -> str:
        return f"sf_{snake(self.name)}"

    @property
    def columns(self) -> tuple[Column, ...]:
        cols = [Column("id", "Id")]
        cols += [Column(snake(f), f, t) for f, t in self.fields.items()]
        for implied, typ in (("IsDeleted", "boolean"), (self.watermark_field, "timestamptz")):
            if implied not in self.fields:
                cols.append(Column(snake(implied), implied, typ))
        return tuple(cols)

    @property
    def soql_fields(self) -> list[str]:
        return [c.source for c in self.columns]


@dataclass(frozen=True)
class QboChild:
    """Lines of a QBO transaction, landed in their own table keyed by (parent id, line_no)."""

    suffix: str  # table = f"{parent.table}_{suffix}"
    path: str  # list inside the entity, e.g. "Line"
    columns: tuple[Column, ...]
    skip_detail_types: tuple[str, ...] = ("SubTotalLineDetail",)


@dataclass(frozen=True)
class QboEntity:
    """A QBO entity: `query` paging for the first full load, `cdc` for increments and deletes."""

    name: str
    columns: tuple[Column, ...]
    children: tuple[QboChild, ...] = field(default_factory=tuple)
    watermark_path: str = "MetaData.LastUpdatedTime"
    indexes: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return f"qb_{snake(self.name)}"

    @property
    def all_columns(self) -> tuple[Column, ...]:
        implied = (
            Column("id", "Id"),
            Column("sync_token", "SyncToken"),
            Column("created_time", "MetaData.CreateTime", "timestamptz"),
            Column("last_updated_time", self.watermark_path, "timestamptz"),
        )
        names = {c.name for c in self.columns}
        return tuple(c for c in implied if c.name not in names) + self.columns


def _cols(*specs: tuple) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in specs)


SALESFORCE_OBJECTS: tuple[SalesforceObject, ...] = (
    SalesforceObject(
        "Account",
        {
            "Name": "text",
            "BillingStreet": "text",
            "BillingCity": "text",
            "BillingState": "text",
            "BillingPostalCode": "text",
            "BillingCountry": "text",
            "Phone": "text",
            "Website": "text",
            "OwnerId": "text",
            "QBO_Customer_Id__c": "text",
            "QBO_Payment_Terms__c": "text",
            "QBO_Taxable__c": "boolean",
        },
        indexes=("qbo_customer_id",),
    ),
    SalesforceObject(
        "Contact",
        {"AccountId": "text", "FirstName": "text", "LastName": "text", "Email": "text", "Phone": "text"},
        indexes=("account_id",),
    ),
    SalesforceObject(
        "Opportunity",
        {
            "Name": "text",
            "AccountId": "text",
            "OwnerId": "text",
            "StageName": "text",
            "IsWon": "boolean",
            "IsClosed": "boolean",
            "CloseDate": "date",
            "Amount": "numeric(18,2)",
            "CurrencyIsoCode": "text",
            "QBO_Invoice_Id__c": "text",
        },
        indexes=("account_id", "close_date"),
    ),
    SalesforceObject(
        "OpportunityLineItem",
        {
            "OpportunityId": "text",
            "PricebookEntryId": "text",
            "Product2Id": "text",
            "ProductCode": "text",
            "Name": "text",
            "Quantity": "numeric(12,2)",
            "UnitPrice": "numeric(18,2)",
            "TotalPrice": "numeric(18,2)",
            "ServiceDate": "date",
        },
        indexes=("opportunity_id",),
    ),
    SalesforceObject(
        "Product2",
        {"Name": "text", "ProductCode": "text", "Family": "text", "IsActive": "boolean"},
    ),
    SalesforceObject(
        "PricebookEntry",
        {
            "Product2Id": "text",
            "Pricebook2Id": "text",
            "UnitPrice": "numeric(18,2)",
            "CurrencyIsoCode": "text",
            "IsActive": "boolean",
        },
    ),
    SalesforceObject("User", {"Name": "text", "Email": "text", "IsActive": "boolean"}),
)

QBO_ENTITIES: tuple[QboEntity, ...] = (
    QboEntity(
        "Customer",
        _cols(
            ("display_name", "DisplayName"),
            ("company_name", "CompanyName"),
            ("given_name", "GivenName"),
            ("family_name", "FamilyName"),
            ("email", "PrimaryEmailAddr.Address"),
            ("phone", "PrimaryPhone.FreeFormNumber"),
            ("website", "WebAddr.URI"),
            ("bill_line1", "BillAddr.Line1"),
            ("bill_line2", "BillAddr.Line2"),
            ("bill_city", "BillAddr.City"),
            ("bill_region", "BillAddr.CountrySubDivisionCode"),
            ("bill_postal_code", "BillAddr.PostalCode"),
            ("bill_country", "BillAddr.Country"),
            ("currency", "CurrencyRef.value"),
            ("balance", "Balance", "numeric(18,2)"),
            ("active", "Active", "boolean"),
            ("taxable", "Taxable", "boolean"),
            ("sales_term_id", "SalesTermRef.value"),
            ("tax_code_id", "DefaultTaxCodeRef.value"),
        ),
    ),
    QboEntity(
        "Item",
        _cols(
            ("name", "Name"),
            ("sku", "Sku"),
            ("type", "Type"),
            ("unit_price", "UnitPrice", "numeric(18,2)"),
            ("active", "Active", "boolean"),
            ("income_account_id", "IncomeAccountRef.value"),
        ),
    ),
    QboEntity(
        "Term",
        _cols(("name", "Name"), ("due_days", "DueDays", "integer"), ("active", "Active", "boolean")),
    ),
    QboEntity(
        "Invoice",
        _cols(
            ("doc_number", "DocNumber"),
            ("customer_id", "CustomerRef.value"),
            ("customer_name", "CustomerRef.name"),
            ("txn_date", "TxnDate", "date"),
            ("due_date", "DueDate", "date"),
            ("total_amt", "TotalAmt", "numeric(18,2)"),
            ("balance", "Balance", "numeric(18,2)"),
            ("currency", "CurrencyRef.value"),
            ("exchange_rate", "ExchangeRate", "numeric(18,6)"),
            ("home_total_amt", "HomeTotalAmt", "numeric(18,2)"),
            ("private_note", "PrivateNote"),
            ("sales_term_id", "SalesTermRef.value"),
        ),
        indexes=("customer_id", "txn_date"),
        children=(
            QboChild(
                "line",
                "Line",
                _cols(
                    ("line_id", "Id"),
                    ("detail_type", "DetailType"),
                    ("description", "Description"),
                    ("amount", "Amount", "numeric(18,2)"),
                    ("item_id", "SalesItemLineDetail.ItemRef.value"),
                    ("qty", "SalesItemLineDetail.Qty", "numeric(12,2)"),
                    ("unit_price", "SalesItemLineDetail.UnitPrice", "numeric(18,2)"),
                ),
            ),
        ),
    ),
    QboEntity(
        "Payment",
        _cols(
            ("customer_id", "CustomerRef.value"),
            ("txn_date", "TxnDate", "date"),
            ("total_amt", "TotalAmt", "numeric(18,2)"),
            ("unapplied_amt", "UnappliedAmt", "numeric(18,2)"),
            ("currency", "CurrencyRef.value"),
            ("exchange_rate", "ExchangeRate", "numeric(18,6)"),
            ("payment_ref_num", "PaymentRefNum"),
            ("private_note", "PrivateNote"),
        ),
        children=(
            QboChild(
                "line",
                "Line",
                _cols(
                    ("amount", "Amount", "numeric(18,2)"),
                    ("linked_txn_id", "LinkedTxn.0.TxnId"),
                    ("linked_txn_type", "LinkedTxn.0.TxnType"),
                ),
            ),
        ),
    ),
    QboEntity(
        "CreditMemo",
        _cols(
            ("doc_number", "DocNumber"),
            ("customer_id", "CustomerRef.value"),
            ("txn_date", "TxnDate", "date"),
            ("total_amt", "TotalAmt", "numeric(18,2)"),
            ("remaining_credit", "RemainingCredit", "numeric(18,2)"),
            ("currency", "CurrencyRef.value"),
            ("exchange_rate", "ExchangeRate", "numeric(18,6)"),
            ("home_total_amt", "HomeTotalAmt", "numeric(18,2)"),
            ("invoice_id", "InvoiceRef.value"),
            ("private_note", "PrivateNote"),
        ),
    ),
)

SPECS_BY_KEY = {("salesforce", s.name): s for s in SALESFORCE_OBJECTS} | {
    ("qbo", e.name): e for e in QBO_ENTITIES
}


def child_table(entity: QboEntity, child: QboChild) -> str:
    return f"{entity.table}_{child.suffix}"


def staging_ddl(spec: SalesforceObject | QboEntity) -> list[str]:
    """Idempotent DDL for a spec's staging table(s): create if missing, add new columns.

    Generated rather than migrated so that adding an object (or a field) is one entry;
    columns are only ever added, never dropped or retyped, so no data is lost.
    """
    meta = [("raw", "jsonb"), ("_extracted_at", "timestamptz not null default now()"),
            ("_run_id", "text"), ("_deleted", "boolean not null default false")]
    statements: list[str] = []

    def table(name: str, cols: list[tuple[str, str]], pk: str) -> None:
        statements.append(f"create table if not exists staging.{name} ({pk})")
        for col, typ in cols + meta:
            statements.append(f"alter table staging.{name} add column if not exists {col} {typ}")

    if isinstance(spec, SalesforceObject):
        table(spec.table, [(c.name, c.type) for c in spec.columns if c.name != "id"], "id text primary key")
    else:
        table(spec.table, [(c.name, c.type) for c in spec.all_columns if c.name != "id"], "id text primary key")
        for child in spec.children:
            table(
                child_table(spec, child),
                [(c.name, c.type) for c in child.columns],
                "parent_id text not null, line_no integer not null, primary key (parent_id, line_no)",
            )
    for column in spec.indexes:
        statements.append(
            f"create index if not exists {spec.table}_{column}_idx on staging.{spec.table} ({column})"
        )
    return statements


def ensure_staging_tables(conn, specs=None) -> None:
    """Create or widen every staging table (all specs by default)."""
    for spec in specs or (*SALESFORCE_OBJECTS, *QBO_ENTITIES):
        for statement in staging_ddl(spec):
            conn.execute(statement)
