"""A small, consistent set of good staging rows, and helpers to break it.

Good data: three accounts and customers, opportunities whose lines add up, invoices whose lines
(less a discount, plus tax) add up, payments that never over-apply, one voided invoice.
"""

from __future__ import annotations

import datetime as dt

from psycopg import sql

RUN_DATE = dt.date(2026, 11, 22)
PLANNED = "test_plan.planned_invoice_check"

BASELINE = [
    """insert into staging.sf_account (id, name, qbo_customer_id) values
       ('a1', 'Acme Corp', '1'), ('a2', 'Beta GmbH', '2'), ('a3', 'Gamma Ltd', null)""",
    """insert into staging.sf_contact (id, account_id, last_name, email) values
       ('c1', 'a1', 'Ames', 'ann@acme.example'), ('c2', 'a2', 'Berg', null)""",
    # o3 is open (not won) and closes next year: only Closed Won opportunities are held to a past date.
    """insert into staging.sf_opportunity
       (id, name, account_id, stage_name, is_won, is_closed, close_date, amount, currency_iso_code, qbo_invoice_id) values
       ('o1', 'Acme deal', 'a1', 'Closed Won', true, true, '2026-10-01', 300.00, 'USD', '101'),
       ('o2', 'Beta deal', 'a2', 'Closed Won', true, true, '2026-09-01', 50.00, 'EUR', null),
       ('o3', 'Gamma deal', 'a3', 'Prospecting', false, false, '2027-03-01', 10.00, 'USD', null),
       ('o12', 'Thirds', 'a1', 'Closed Won', true, true, '2026-11-22', 100.00, 'USD', null)""",
    # o12: three lines of 33.33 = 99.99 against 100.00, a difference of exactly one cent (allowed).
    """insert into staging.sf_opportunity_line_item
       (id, opportunity_id, name, quantity, unit_price, total_price) values
       ('l1', 'o1', 'Widget', 2, 100.00, 200.00), ('l2', 'o1', 'Widget', 1, 100.00, 100.00),
       ('l3', 'o2', 'Gadget', 1, 50.00, 50.00),
       ('l4', 'o12', 'Third', 1, 33.33, 33.33), ('l5', 'o12', 'Third', 1, 33.33, 33.33),
       ('l6', 'o12', 'Third', 1, 33.33, 33.33)""",
    # p3 repeats p1's code but is inactive: only active products need distinct codes.
    """insert into staging.sf_product2 (id, name, product_code, is_active) values
       ('p1', 'Widget', 'W1', true), ('p2', 'Gadget', 'G1', true), ('p3', 'Old widget', 'W1', false)""",
    """insert into staging.sf_pricebook_entry (id, product2_id, unit_price, currency_iso_code, is_active) values
       ('pbe1', 'p1', 100.00, 'USD', true), ('pbe2', 'p2', 50.00, 'EUR', true)""",
    "insert into staging.sf_user (id, name, is_active) values ('u1', 'Ann Admin', true)",
    # Customer 3 repeats 1's name but is inactive: QBO keeps names unique among active ones only.
    """insert into staging.qb_customer (id, display_name, currency, active) values
       ('1', 'Acme Corp', 'USD', true), ('2', 'Beta GmbH', 'EUR', true), ('3', 'Acme Corp', 'USD', false)""",
    """insert into staging.qb_item (id, name, type, unit_price, active) values
       ('i1', 'Widget', 'Service', 100.00, true), ('i2', 'Gadget', 'NonInventory', 50.00, true)""",
    "insert into staging.qb_term (id, name, due_days, active) values ('t1', 'Net 30', 30, true)",
    # 102: 60 - 10 discount + 4 tax = 54. 103 is voided: zero total, zeroed line.
    """insert into staging.qb_invoice
       (id, doc_number, customer_id, txn_date, due_date, total_amt, balance, currency, exchange_rate, private_note, raw) values
       ('101', '1001', '1', '2026-10-02', '2026-11-01', 300.00, 100.00, 'USD', 1, 'o1', '{}'),
       ('102', '1002', '2', '2026-09-02', '2026-10-02', 54.00, 0.00, 'EUR', 1.08, 'o2', '{"TxnTaxDetail": {"TotalTax": 4.00}}'),
       ('103', '1003', '1', '2026-08-01', '2026-08-31', 0.00, 0.00, 'USD', 1, 'Voided', '{}')""",
    """insert into staging.qb_invoice_line (parent_id, line_no, line_id, detail_type, amount, item_id) values
       ('101', 1, '1', 'SalesItemLineDetail', 200.00, 'i1'), ('101', 2, '2', 'SalesItemLineDetail', 100.00, 'i1'),
       ('102', 1, '1', 'SalesItemLineDetail', 60.00, 'i2'), ('102', 2, '2', 'DiscountLineDetail', 10.00, null),
       ('103', 1, '1', 'SalesItemLineDetail', 0.00, 'i1')""",
    """insert into staging.qb_payment (id, customer_id, txn_date, total_amt, unapplied_amt, currency) values
       ('pay1', '1', '2026-10-20', 200.00, 0.00, 'USD'), ('pay2', '2', '2026-09-20', 60.00, 6.00, 'EUR')""",
    """insert into staging.qb_payment_line (parent_id, line_no, amount, linked_txn_id, linked_txn_type) values
       ('pay1', 1, 200.00, '101', 'Invoice'), ('pay2', 1, 54.00, '102', 'Invoice')""",
    """insert into staging.qb_credit_memo (id, doc_number, customer_id, total_amt, remaining_credit, currency) values
       ('cm1', 'CM1', '1', 20.00, 5.00, 'USD')""",
    # The loads stage's view sync.planned_invoice_check, replaced by a table of its contract
    # columns (expectations/README.md) that the tests fill by hand.
    f"""create schema if not exists test_plan;
        create table {PLANNED} (
            opportunity_id text, customer_id text, display_name text, doc_number text, line_count integer,
            unmapped_item_count integer, total_amt numeric(18,2), currency text, existing_invoice_id text);
        drop view if exists sync.planned_invoice_check;
        create view sync.planned_invoice_check as select * from {PLANNED}""",
    f"""insert into {PLANNED} values
       ('o1', '1', 'Acme Corp', 'SF-1001', 2, 0, 300.00, 'USD', null),
       ('o2', '2', 'Beta GmbH', 'SF-1002', 1, 0, 50.00, 'EUR', null),
       ('o12', 'new:a3', 'Gamma Ltd', 'SF-1012', 3, 0, 100.00, 'USD', null)""",
]


def seed(conn) -> None:
    for statement in BASELINE:
        conn.execute(statement)


def drop_keys(conn, table: str) -> None:
    """Let a table hold duplicate or missing ids, as a broken extract or source could deliver."""
    schema, name = table.split(".")
    for (constraint,) in conn.execute(
        "select conname from pg_constraint where conrelid = %s::regclass and contype = 'p'", (table,)
    ).fetchall():
        conn.execute(sql.SQL("alter table {} drop constraint {}").format(sql.Identifier(schema, name), sql.Identifier(constraint)))
    for (column,) in conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s and is_nullable = 'NO' and column_default is null",
        (schema, name),
    ).fetchall():
        conn.execute(
            sql.SQL("alter table {} alter column {} drop not null").format(sql.Identifier(schema, name), sql.Identifier(column))
        )


def open_holds(conn, suite: str) -> dict[str, set[tuple[str, str]]]:
    """expectation -> {(table_name, record_id)} of the suite's open quarantine rows."""
    holds: dict[str, set[tuple[str, str]]] = {}
    for expectation, table, record in conn.execute(
        "select expectation, table_name, record_id from sync.open_quarantine where suite = %s", (suite,)
    ):
        holds.setdefault(expectation, set()).add((table, record))
    return holds
