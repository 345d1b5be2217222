"""Fixtures for the matching tests: put hand-made Accounts, Contacts and Customers into staging."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from psycopg import sql

from ledgerlink.extract.qbo import pluck
from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS

_SF = {s.name: s for s in SALESFORCE_OBJECTS}
_QB = {e.name: e for e in QBO_ENTITIES}


def _plain(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None if value is None else str(value)


def _raw(record: dict) -> str:
    return json.dumps(record, default=lambda v: v.isoformat() if isinstance(v, datetime | date) else str(v) if isinstance(v, Decimal) else None)


def _insert(conn, table: str, columns: list[str], rows: list[list]) -> None:
    statement = sql.SQL("insert into staging.{} ({}) values ({}) on conflict (id) do update set {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.Placeholder() for _ in columns),
        sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in columns if c != "id"),
    )
    with conn.cursor() as cur:
        cur.executemany(statement, rows)


def put_salesforce(conn, object_name: str, records: list[dict]) -> None:
    """Records keyed by API field names, as the extract would have staged them."""
    spec = _SF[object_name]
    columns = [c.name for c in spec.columns] + ["raw", "_deleted"]
    rows = [[_plain(r.get(c.source)) for c in spec.columns] + [_raw(r), bool(r.pop("_deleted", False))] for r in records]
    _insert(conn, spec.table, columns, rows)


def put_qbo(conn, entity_name: str, records: list[dict]) -> None:
    """Entities in QBO's JSON shape."""
    spec = _QB[entity_name]
    columns = [c.name for c in spec.all_columns] + ["raw", "_deleted"]
    rows = [[pluck(r, c.source) for c in spec.all_columns] + [_raw(r), bool(r.pop("_deleted", False))] for r in records]
    _insert(conn, spec.table, columns, rows)


def sf_account(id_: str, name: str, **fields) -> dict:
    return {"Id": id_, "Name": name, "IsDeleted": False, **fields}


def qb_customer(id_: str, name: str, street=None, city=None, postal=None, phone=None, email=None, web=None, **extra) -> dict:
    record = {"Id": id_, "DisplayName": name, "CompanyName": name, "Active": True, "SyncToken": "0", **extra}
    addr = {k: v for k, v in (("Line1", street), ("City", city), ("PostalCode", postal)) if v}
    if addr:
        record["BillAddr"] = addr
    if phone:
        record["PrimaryPhone"] = {"FreeFormNumber": phone}
    if email:
        record["PrimaryEmailAddr"] = {"Address": email}
    if web:
        record["WebAddr"] = {"URI": web}
    return record


@pytest.fixture
def staged(conn):
    """A small world: three companies in both systems, one only in each, one duplicate account.

    Acme: two Salesforce accounts and one customer, all written differently. Globex: already
    linked in Salesforce (QBO_Customer_Id__c). Initech: same name and street but another phone
    (review band). Hooli: only in Salesforce (new). Umbrella: only in QBO.
    """
    put_salesforce(conn, "Account", [
        sf_account("001A", "ACME Corporation", BillingStreet="100 Main Street, Suite 200", BillingCity="Springfield",
                   BillingPostalCode="12345", Phone="(415) 555-0100", Website="https://www.acme.com"),
        sf_account("001B", "Acme Corp.", BillingStreet="100 Main St", BillingCity="Springfield",
                   BillingPostalCode="12345", Phone="415.555.0100", Website="acme.com"),
        sf_account("001G", "Globex LLC", BillingStreet="1 Globex Way", BillingCity="Cypress Creek",
                   BillingPostalCode="90210", Phone="310 555 0199", QBO_Customer_Id__c="20"),
        sf_account("001I", "Initech Incorporated", BillingStreet="4120 Freidrich Lane", BillingCity="Austin",
                   Phone="512 555 0101"),
        sf_account("001H", "Hooli", BillingStreet="1600 Amphitheatre Pkwy", BillingCity="Mountain View",
                   BillingPostalCode="94043", Phone="650 555 0000", Website="hooli.xyz"),
    ])
    put_salesforce(conn, "Contact", [
        {"Id": "003A1", "AccountId": "001A", "LastName": "Coyote", "Email": "wile@acme.com", "IsDeleted": False},
    ])
    put_qbo(conn, "Customer", [
        qb_customer("10", "Acme Corp", "100 Main St.", "Springfield", "12345-6789", "+1 415 555 0100", "ap@acme.com"),
        qb_customer("20", "Globex Corporation", "1 Globex Way", "Cypress Creek", "90210"),
        qb_customer("30", "Initech", "4120 Friedrich Ln", "Austin", None, "512 555 0199"),
        qb_customer("40", "Umbrella Corp", "1 Raccoon Rd", "Raccoon City", "66666", "555 666 7777", "billing@umbrella.com"),
    ])
    return conn
