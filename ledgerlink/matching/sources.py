"""Adapters: Salesforce Accounts and QBO Customers as the matcher's canonical records.

Two sources: the staging tables (the pipeline) and a sandbox `Dataset` (the bench). Both go
through the same column rules, so the bench measures what the pipeline does.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from ledgerlink.db import read_sql
from ledgerlink.matching.normalize import FREE_EMAIL_DOMAINS

SF_COLUMNS = ("id", "name", "address", "city", "postal_code", "phone", "email", "website", "country", "qbo_customer_id")
QB_COLUMNS = ("id", "name", "line1", "line2", "line3", "city", "postal_code", "phone", "email", "website", "country", "active")


def qbo_address(frame: pl.DataFrame) -> pl.DataFrame:
    """Billing lines -> one street: the lines that hold a number (bookkeepers often put the
    company name on the first line, and the suite on its own line); line 1 if none does."""
    lines = [c for c in ("line1", "line2", "line3") if c in frame.columns]
    with_digit = [pl.when(pl.col(c).str.contains(r"\d")).then(pl.col(c)) for c in lines]
    joined = pl.concat_str(with_digit, separator=", ", ignore_nulls=True)
    address = pl.when(joined.is_null() | (joined == "")).then(pl.col("line1")).otherwise(joined)
    return frame.with_columns(address=address).drop(lines)


def _frame(rows: list[tuple], columns: tuple[str, ...]) -> pl.DataFrame:
    schema = {c: (pl.Boolean if c == "active" else pl.String) for c in columns}
    return pl.DataFrame(rows, schema=schema, orient="row")


# Staging tables --------------------------------------------------------------------------------

def sf_accounts_from_staging(conn) -> pl.DataFrame:
    """Live Accounts (not deleted in Salesforce, not gone from the extract) with the most common
    company e-mail domain of their Contacts (Accounts have no e-mail field)."""
    cur = conn.execute(read_sql("matching/sf_accounts.sql"), {"free_domains": sorted(FREE_EMAIL_DOMAINS)})
    return _frame(cur.fetchall(), SF_COLUMNS)


def qb_customers_from_staging(conn) -> pl.DataFrame:
    cur = conn.execute(read_sql("matching/qb_customers.sql"))
    return qbo_address(_frame(cur.fetchall(), QB_COLUMNS))


# Sandbox datasets ------------------------------------------------------------------------------

def sf_accounts_from_dataset(dataset) -> pl.DataFrame:
    contacts: dict[str, Counter] = {}
    for c in dataset.salesforce.get("Contact", []):
        email = c.get("Email") or ""
        if c.get("IsDeleted") or "@" not in email:
            continue
        domain = email.rsplit("@", 1)[1].lower()
        if domain not in FREE_EMAIL_DOMAINS:
            contacts.setdefault(c["AccountId"], Counter())[domain] += 1
    rows = []
    for a in dataset.salesforce.get("Account", []):
        if a.get("IsDeleted"):
            continue
        domains = contacts.get(a["Id"])
        # Most common domain; ties go to the alphabetically first, as the SQL does.
        email = min(domains.items(), key=lambda kv: (-kv[1], kv[0]))[0] if domains else None
        rows.append({
            "id": a["Id"], "name": a.get("Name"), "address": a.get("BillingStreet"), "city": a.get("BillingCity"),
            "postal_code": a.get("BillingPostalCode"), "phone": a.get("Phone"), "email": email,
            "website": a.get("Website"), "country": a.get("BillingCountry"),
            "qbo_customer_id": a.get("QBO_Customer_Id__c"),
        })
    return pl.DataFrame(rows, schema={c: pl.String for c in SF_COLUMNS})


def qb_customers_from_dataset(dataset) -> pl.DataFrame:
    rows = []
    for c in dataset.qbo.get("Customer", []):
        addr = c.get("BillAddr") or {}
        rows.append({
            "id": c["Id"], "name": c.get("CompanyName") or c.get("DisplayName"),
            "line1": addr.get("Line1"), "line2": addr.get("Line2"), "line3": addr.get("Line3"),
            "city": addr.get("City"), "postal_code": addr.get("PostalCode"),
            "phone": (c.get("PrimaryPhone") or {}).get("FreeFormNumber"),
            "email": (c.get("PrimaryEmailAddr") or {}).get("Address"),
            "website": (c.get("WebAddr") or {}).get("URI"), "country": addr.get("Country"),
            "active": c.get("Active", True) is not False,
        })
    schema = {c: (pl.Boolean if c == "active" else pl.String) for c in QB_COLUMNS}
    return qbo_address(pl.DataFrame(rows, schema=schema))
