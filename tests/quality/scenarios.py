"""For every suite: rows that break each of its expectations, the expected failures, and the fix.

`failures` maps each expectation meant to fail to the ids it must quarantine (row-level) or to
None (table-level). Every expectation of every suite must appear in some scenario's failures
(test_scenarios_cover_every_expectation), so a new expectation cannot land untested.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.quality.data import PLANNED


@dataclass(frozen=True)
class Scenario:
    suite: str
    breaks: tuple[str, ...]
    failures: dict
    fixes: tuple[str, ...]
    drop_keys: tuple[str, ...] = ()
    source_table: str | None = None


def _customer_writes(*rows: tuple[str, str, str, str]) -> str:
    """Outbox rows of customer writes: (key, operation, account, payload JSON)."""
    values = ", ".join(
        f"('{key}', 'Customer', '{operation}', 1, 'Account', '{account}', '{payload}'::jsonb, 'h-{key}')"
        for key, operation, account, payload in rows)
    return ("insert into sync.outbox (idempotency_key, entity, operation, phase, source_object, source_id,"
            f" payload, payload_hash) values {values}")


def _customer_payload(key: str, payload: str) -> str:
    return f"update sync.outbox set payload = '{payload}'::jsonb where idempotency_key = '{key}'"


def _ids(table: str, dup_key: str, columns: str, values: str, null_values: str | None = None) -> tuple[str, ...]:
    """One row without id and two sharing an id; otherwise good."""
    return (
        f"insert into {table} (id, {columns}) values (null, {null_values or values}),"
        f" ('{dup_key}', {values}), ('{dup_key}', {values})",
    )


def _ids_fix(table: str, dup_key: str) -> tuple[str, ...]:
    return (
        f"delete from {table} where id is null",
        f"delete from {table} where ctid in (select ctid from {table} where id = '{dup_key}' limit 1)",
    )


SCENARIOS = [
    Scenario(
        "sf_account",
        _ids("staging.sf_account", "a9", "name", "'Dup Inc'") + (
            "insert into staging.sf_account (id, name) values ('a4', null)",
            "insert into staging.sf_account (id, name, qbo_customer_id) values ('a5', 'Five', '7'), ('a6', 'Six', '7')",
        ),
        {"id_present": None, "id_unique": None, "name_present": {"a4"}, "qbo_customer_link_unique": {"a5", "a6"}},
        _ids_fix("staging.sf_account", "a9") + (
            "update staging.sf_account set name = 'Four' where id = 'a4'",
            "update staging.sf_account set qbo_customer_id = null where id = 'a6'",
        ),
        drop_keys=("staging.sf_account",),
    ),
    Scenario(
        "sf_contact",
        _ids("staging.sf_contact", "c9", "email", "'x@y.example'") + (
            "insert into staging.sf_contact (id, email) values ('c3', 'not-an-email')",
        ),
        {"id_present": None, "id_unique": None, "email_plausible": None},
        _ids_fix("staging.sf_contact", "c9") + ("update staging.sf_contact set email = 'c3@y.example' where id = 'c3'",),
        drop_keys=("staging.sf_contact",),
    ),
    Scenario(
        "sf_opportunity",
        _ids("staging.sf_opportunity", "o9", "is_won, amount, currency_iso_code", "false, 1, 'USD'") + (
            """insert into staging.sf_opportunity (id, account_id, is_won, close_date, amount, currency_iso_code, qbo_invoice_id) values
               ('o4', 'a1', false, '2026-01-01', -5.00, 'USD', null),
               ('o5', 'a1', false, '2026-01-01', 5.00, 'XYZ', null),
               ('o6', null, true, '2026-01-01', 10.00, 'USD', null),
               ('o7', 'a1', true, '2026-01-01', null, 'USD', null),
               ('o8', 'a1', true, '2026-11-23', 10.00, 'USD', null),
               ('o10', 'a1', false, '2026-01-01', 1.00, 'USD', '101')""",
        ),
        {
            "id_present": None,
            "id_unique": None,
            "amount_not_negative": {"o4"},
            "currency_iso_4217": {"o5"},
            "closed_won_has_account": {"o6"},
            "closed_won_has_amount": {"o7"},
            "closed_won_close_date_not_future": {"o8"},  # the day after the run date
            "qbo_invoice_link_unique": {"o1", "o10"},  # both claim invoice 101
        },
        _ids_fix("staging.sf_opportunity", "o9") + (
            "update staging.sf_opportunity set amount = 5 where id = 'o4'",
            "update staging.sf_opportunity set currency_iso_code = 'EUR' where id = 'o5'",
            "update staging.sf_opportunity set account_id = 'a2' where id = 'o6'",
            "update staging.sf_opportunity set amount = 10 where id = 'o7'",
            "update staging.sf_opportunity set close_date = '2026-11-22' where id = 'o8'",
            "update staging.sf_opportunity set qbo_invoice_id = null where id = 'o10'",
        ),
        drop_keys=("staging.sf_opportunity",),
    ),
    Scenario(
        "opportunity_line_totals",
        (
            """insert into staging.sf_opportunity (id, account_id, is_won, close_date, amount, currency_iso_code) values
               ('o11', 'a1', true, '2026-10-01', 100.00, 'USD'), ('o13', 'a2', true, '2026-10-01', 10.00, 'USD')""",
            """insert into staging.sf_opportunity_line_item (id, opportunity_id, quantity, unit_price, total_price) values
               ('l9', 'o11', 1, 90.00, 90.00), ('l10', 'o13', 1, 10.02, 10.02)""",
        ),
        {"lines_add_up_to_amount": {"o11", "o13"}},  # 10 below; 2 cents above
        (
            "update staging.sf_opportunity_line_item set unit_price = 100, total_price = 100 where id = 'l9'",
            "update staging.sf_opportunity_line_item set _deleted = true where id = 'l10'",
            "insert into staging.sf_opportunity_line_item (id, opportunity_id, quantity, unit_price, total_price) values ('l11', 'o13', 1, 10, 10)",
        ),
    ),
    Scenario(
        "sf_opportunity_line_item",
        _ids("staging.sf_opportunity_line_item", "l9", "opportunity_id, quantity, unit_price, total_price", "'o1', 1, 1, 1") + (
            """insert into staging.sf_opportunity_line_item (id, opportunity_id, quantity, unit_price, total_price) values
               ('l10', null, 1, 1.00, 1.00),
               ('l11', 'o2', 0, 50.00, 0.00),
               ('l12', 'o1', 1, -5.00, 0.00),
               ('l13', 'o3', 1, 5.00, -5.00)""",
        ),
        {
            "id_present": None,
            "id_unique": None,
            "opportunity_present": None,
            "quantity_positive": {"o2"},
            "unit_price_not_negative": {"o1"},
            "total_price_not_negative": {"o3"},
        },
        _ids_fix("staging.sf_opportunity_line_item", "l9") + (
            "update staging.sf_opportunity_line_item set opportunity_id = 'o3' where id = 'l10'",
            "update staging.sf_opportunity_line_item set quantity = 1 where id = 'l11'",
            "update staging.sf_opportunity_line_item set unit_price = 0 where id = 'l12'",
            "update staging.sf_opportunity_line_item set total_price = 5 where id = 'l13'",
        ),
        drop_keys=("staging.sf_opportunity_line_item",),
    ),
    Scenario(
        "sf_product2",
        _ids("staging.sf_product2", "p9", "name, is_active", "'Nine', false") + (
            "insert into staging.sf_product2 (id, name, product_code, is_active) values ('p4', null, 'N1', true), ('p5', 'Gizmo', 'G1', true)",
        ),
        {"id_present": None, "id_unique": None, "name_present": None, "active_product_code_unique": None},
        _ids_fix("staging.sf_product2", "p9") + (
            "update staging.sf_product2 set name = 'Four' where id = 'p4'",
            "update staging.sf_product2 set product_code = 'GZ1' where id = 'p5'",
        ),
        drop_keys=("staging.sf_product2",),
    ),
    Scenario(
        "sf_pricebook_entry",
        _ids("staging.sf_pricebook_entry", "pbe9", "unit_price", "1") + (
            "insert into staging.sf_pricebook_entry (id, unit_price, currency_iso_code) values ('pbe3', -1, 'USD'), ('pbe4', 1, 'ABC')",
        ),
        {"id_present": None, "id_unique": None, "unit_price_not_negative": None, "currency_iso_4217": None},
        _ids_fix("staging.sf_pricebook_entry", "pbe9") + (
            "update staging.sf_pricebook_entry set unit_price = 1 where id = 'pbe3'",
            "update staging.sf_pricebook_entry set currency_iso_code = 'CAD' where id = 'pbe4'",
        ),
        drop_keys=("staging.sf_pricebook_entry",),
    ),
    Scenario(
        "sf_user",
        _ids("staging.sf_user", "u9", "name", "'Nine'") + ("insert into staging.sf_user (id, name) values ('u2', null)",),
        {"id_present": None, "id_unique": None, "name_present": None},
        _ids_fix("staging.sf_user", "u9") + ("update staging.sf_user set name = 'Two' where id = 'u2'",),
        drop_keys=("staging.sf_user",),
    ),
    Scenario(
        "qb_customer",
        _ids("staging.qb_customer", "9", "display_name, currency, active", "'Nine', 'USD', false") + (
            """insert into staging.qb_customer (id, display_name, currency, active) values
               ('4', null, 'USD', true), ('5', repeat('x', 501), 'USD', true),
               ('6', 'Beta GmbH', 'EUR', true), ('7', 'Zed', 'usd', true)""",
        ),
        {
            "id_present": None,
            "id_unique": None,
            "display_name_present": {"4"},
            "display_name_fits": {"5"},
            "active_display_name_unique": None,  # 6 and 2 are both active "Beta GmbH"
            "currency_iso_4217": {"7"},  # codes are upper case
        },
        _ids_fix("staging.qb_customer", "9") + (
            "update staging.qb_customer set display_name = 'Four' where id = '4'",
            "update staging.qb_customer set display_name = repeat('x', 500) where id = '5'",
            "update staging.qb_customer set active = false where id = '6'",
            "update staging.qb_customer set currency = 'USD' where id = '7'",
        ),
        drop_keys=("staging.qb_customer",),
    ),
    Scenario(
        "qb_invoice",
        _ids("staging.qb_invoice", "199", "customer_id, total_amt, balance, currency", "'1', 1, 0, 'USD'") + (
            """insert into staging.qb_invoice (id, doc_number, customer_id, txn_date, due_date, total_amt, balance, currency, exchange_rate) values
               ('104', '1004', null, '2026-10-01', '2026-10-31', 10, 0, 'USD', 1),
               ('105', '1005', '1', '2026-10-01', '2026-10-31', -1, null, 'USD', 1),
               ('106', '1006', '1', '2026-10-01', '2026-10-31', 10, -1, 'USD', 1),
               ('107', '1007', '1', '2026-10-01', '2026-10-31', 10, 20, 'USD', 1),
               ('108', '1008', '1', '2026-10-01', '2026-10-31', 10, 0, 'EURO', 1),
               ('109', '1009', '1', '2026-10-01', '2026-10-31', 10, 0, 'USD', 0),
               ('110', repeat('9', 22), '1', '2026-10-01', '2026-10-31', 10, 0, 'USD', 1),
               ('111', '1011', '1', '2026-10-01', '2026-09-30', 10, 0, 'USD', 1)""",
        ),
        {
            "id_present": None,
            "id_unique": None,
            "customer_present": None,
            "total_not_negative": {"105"},
            "balance_not_negative": {"106"},
            "balance_within_total": {"107"},
            "currency_iso_4217": {"108"},
            "exchange_rate_positive": {"109"},
            "doc_number_fits": None,
            "due_after_txn_date": None,
        },
        _ids_fix("staging.qb_invoice", "199") + (
            "update staging.qb_invoice set customer_id = '1' where id = '104'",
            "update staging.qb_invoice set total_amt = 1 where id = '105'",
            "update staging.qb_invoice set balance = 0 where id in ('106', '107')",
            "update staging.qb_invoice set currency = 'EUR' where id = '108'",
            "update staging.qb_invoice set exchange_rate = 1.08 where id = '109'",
            "update staging.qb_invoice set doc_number = '1010' where id = '110'",
            "update staging.qb_invoice set due_date = '2026-10-31' where id = '111'",
        ),
        drop_keys=("staging.qb_invoice",),
    ),
    Scenario(
        "qb_invoice_line",
        (
            """insert into staging.qb_invoice_line (parent_id, line_no, detail_type, amount, item_id) values
               ('101', 1, 'SalesItemLineDetail', 200.00, 'i1'),
               ('102', 3, 'SalesItemLineDetail', -5.00, 'i2'),
               ('101', 3, 'SalesItemLineDetail', 0.00, null)""",
        ),
        {"line_key_unique": None, "amount_not_negative": {"102"}, "sales_line_has_item": {"101"}},
        (
            "delete from staging.qb_invoice_line where ctid in (select ctid from staging.qb_invoice_line where parent_id = '101' and line_no = 1 limit 1)",
            "update staging.qb_invoice_line set amount = 5 where parent_id = '102' and line_no = 3",
            "update staging.qb_invoice_line set item_id = 'i1' where parent_id = '101' and line_no = 3",
        ),
        drop_keys=("staging.qb_invoice_line",),
    ),
    Scenario(
        "invoice_line_totals",
        (
            """insert into staging.qb_invoice (id, customer_id, total_amt, balance, currency) values
               ('112', '1', 100.00, 0, 'USD'), ('114', '1', 10.00, 0, 'USD'), ('115', '1', 10.00, 0, 'USD')""",
            # 114: lines 10.01 against 10.00, one cent: allowed. 115: two cents: flagged.
            """insert into staging.qb_invoice_line (parent_id, line_no, detail_type, amount, item_id) values
               ('112', 1, 'SalesItemLineDetail', 50.00, 'i1'), ('112', 2, 'DescriptionOnly', 50.00, null),
               ('114', 1, 'SalesItemLineDetail', 10.01, 'i1'), ('115', 1, 'SalesItemLineDetail', 10.02, 'i1')""",
        ),
        {"lines_add_up_to_total": {"112", "115"}},
        (
            "update staging.qb_invoice_line set detail_type = 'SalesItemLineDetail' where parent_id = '112'",
            "update staging.qb_invoice set _deleted = true where id = '115'",
        ),
    ),
    Scenario(
        "qb_payment",
        _ids("staging.qb_payment", "pay9", "customer_id, total_amt, unapplied_amt, currency", "'1', 1, 0, 'USD'") + (
            """insert into staging.qb_payment (id, customer_id, total_amt, unapplied_amt, currency) values
               ('pay3', null, 10, 0, 'USD'), ('pay4', '1', -1, null, 'USD'), ('pay5', '1', 10, -1, 'USD'),
               ('pay6', '1', 10, 20, 'USD'), ('pay7', '1', 10, 0, 'US$')""",
        ),
        {
            "id_present": None,
            "id_unique": None,
            "customer_present": None,
            "total_not_negative": {"pay4"},
            "unapplied_not_negative": {"pay5"},
            "unapplied_within_total": {"pay6"},
            "currency_iso_4217": {"pay7"},
        },
        _ids_fix("staging.qb_payment", "pay9") + (
            "update staging.qb_payment set customer_id = '2' where id = 'pay3'",
            "update staging.qb_payment set total_amt = 1 where id = 'pay4'",
            "update staging.qb_payment set unapplied_amt = 0 where id in ('pay5', 'pay6')",
            "update staging.qb_payment set currency = 'USD' where id = 'pay7'",
        ),
        drop_keys=("staging.qb_payment",),
    ),
    Scenario(
        "qb_payment_line",
        (
            """insert into staging.qb_payment_line (parent_id, line_no, amount, linked_txn_id, linked_txn_type) values
               ('pay1', 1, 200.00, '101', 'Invoice'), ('pay2', 2, -5.00, '102', 'Invoice'),
               ('pay1', 2, 0.00, 'x', 'Bogus')""",
        ),
        {"line_key_unique": None, "amount_not_negative": {"pay2"}, "linked_txn_type_known": None},
        (
            "delete from staging.qb_payment_line where ctid in (select ctid from staging.qb_payment_line where parent_id = 'pay1' and line_no = 1 limit 1)",
            "update staging.qb_payment_line set amount = 0 where parent_id = 'pay2' and line_no = 2",
            "update staging.qb_payment_line set linked_txn_type = 'CreditMemo' where parent_id = 'pay1' and line_no = 2",
        ),
        drop_keys=("staging.qb_payment_line",),
    ),
    Scenario(
        "payment_applications",
        (
            "insert into staging.qb_payment (id, customer_id, total_amt, unapplied_amt, currency) values ('pay8', '2', 10, 0, 'EUR')",
            "insert into staging.qb_payment_line (parent_id, line_no, amount, linked_txn_id, linked_txn_type) values ('pay8', 1, 10, '102', 'Invoice')",
        ),
        {"not_over_applied": {"102"}},  # 54 + 10 applied to a 54.00 invoice
        ("update staging.qb_payment set _deleted = true where id = 'pay8'",),  # deleted in QBO
    ),
    Scenario(
        "qb_credit_memo",
        _ids("staging.qb_credit_memo", "cm9", "customer_id, total_amt, remaining_credit, currency", "'1', 1, 0, 'USD'") + (
            """insert into staging.qb_credit_memo (id, doc_number, customer_id, total_amt, remaining_credit, currency) values
               ('cm2', 'CM2', '1', -1, null, 'USD'), ('cm3', 'CM3', '1', 10, -1, 'USD'),
               ('cm4', 'CM4', '1', 10, 11, 'USD'), ('cm5', 'CM5', '1', 10, 0, 'GBX'),
               ('cm6', repeat('C', 22), '1', 10, 0, 'USD')""",
        ),
        {
            "id_present": None,
            "id_unique": None,
            "total_not_negative": {"cm2"},
            "remaining_not_negative": {"cm3"},
            "remaining_within_total": {"cm4"},
            "currency_iso_4217": {"cm5"},  # pence sterling is not an ISO 4217 currency
            "doc_number_fits": None,
        },
        _ids_fix("staging.qb_credit_memo", "cm9") + (
            "update staging.qb_credit_memo set total_amt = 1 where id = 'cm2'",
            "update staging.qb_credit_memo set remaining_credit = 0 where id in ('cm3', 'cm4')",
            "update staging.qb_credit_memo set currency = 'GBP' where id = 'cm5'",
            "update staging.qb_credit_memo set doc_number = 'CM6' where id = 'cm6'",
        ),
        drop_keys=("staging.qb_credit_memo",),
    ),
    Scenario(
        "qb_item",
        _ids("staging.qb_item", "i9", "name, type", "'Nine', 'Service'", "'Null', 'Service'") + (
            """insert into staging.qb_item (id, name, type, unit_price) values
               ('i3', null, 'Service', 1), ('i4', 'Widget', 'Service', 1),
               ('i5', 'Five', 'Service', -1), ('i6', 'Six', 'Magic', 1)""",
        ),
        {
            "id_present": None,
            "id_unique": None,
            "name_present": {"i3"},
            "name_unique": {"i1", "i4", "i9"},  # the two i9 rows share "Nine" too
            "unit_price_not_negative": None,
            "type_known": None,
        },
        _ids_fix("staging.qb_item", "i9") + (
            "update staging.qb_item set name = 'Three' where id = 'i3'",
            "update staging.qb_item set name = 'Widget 2' where id = 'i4'",
            "update staging.qb_item set unit_price = 0 where id = 'i5'",
            "update staging.qb_item set type = 'Service' where id = 'i6'",
        ),
        drop_keys=("staging.qb_item",),
    ),
    Scenario(
        "qb_term",
        _ids("staging.qb_term", "t9", "name, due_days", "'Nine', 9") + (
            "insert into staging.qb_term (id, name, due_days) values ('t2', null, 10), ('t3', 'Long', 1000)",
        ),
        {"id_present": None, "id_unique": None, "name_present": None, "due_days_in_range": None},
        _ids_fix("staging.qb_term", "t9") + (
            "update staging.qb_term set name = 'Net 10' where id = 't2'",
            "update staging.qb_term set due_days = 999 where id = 't3'",
        ),
        drop_keys=("staging.qb_term",),
    ),
    Scenario(
        "planned_invoices",
        (
            f"""insert into {PLANNED} values
               (null, '1', 'Acme Corp', 'SF-2000', 1, 0, 1, 'USD', null),
               ('o9', '1', 'Acme Corp', 'SF-2009', 1, 0, 1, 'USD', null),
               ('o9', '1', 'Acme Corp', 'SF-2010', 1, 0, 1, 'USD', null),
               ('o4', '1', 'Acme Corp', 'SF-2004', 1, 0, 1, 'USD', '555'),
               ('o5', '1', 'Acme Corp', 'SF-1001', 1, 0, 1, 'USD', null),
               ('o6', null, 'Acme Corp', 'SF-2006', 1, 0, 1, 'USD', null),
               ('o7', '1', 'Acme Corp', 'SF-2007', 0, 0, 1, 'USD', null),
               ('o8', '1', 'Acme Corp', 'SF-2008', 1, 1, 1, 'USD', null),
               ('o10', '1', 'Acme Corp', 'SF-' || repeat('9', 19), 1, 0, 1, 'USD', null),
               ('o11', '1', null, 'SF-2011', 1, 0, 1, 'USD', null),
               ('o13', '1', repeat('n', 501), 'SF-2013', 1, 0, 1, 'USD', null),
               ('o14', '1', 'Acme Corp', 'SF-2014', 1, 0, -1, 'USD', null),
               ('o15', '1', 'Acme Corp', 'SF-2015', 1, 0, 1, 'XXX', null),
               ('o16', '1', 'Acme Corp', 'SF-2016', 1, 0, 1, 'USD', null),
               ('o17', '7', 'Zed', 'SF-2017', 1, 0, 1, 'USD', null)""",
            # Held back by staging checks: the opportunity o16, the QBO customer 7, and the account
            # a2 (whose opportunity o2 is otherwise fine).
            """insert into sync.quarantine (table_name, record_id, suite, expectation, reason, severity) values
               ('staging.sf_opportunity', 'o16', 'sf_opportunity', 'amount_not_negative', 'negative', 'critical'),
               ('staging.qb_customer', '7', 'qb_customer', 'currency_iso_4217', 'bad currency', 'critical'),
               ('staging.sf_account', 'a2', 'sf_account', 'qbo_customer_link_unique', 'shared link', 'warning')""",
        ),
        {
            "opportunity_present": None,
            "one_invoice_per_opportunity": None,
            "no_existing_invoice": None,  # would bill o4 a second time
            "doc_number_unique": None,
            "customer_matched": {"o6"},
            "has_lines": {"o7"},
            "items_mapped": {"o8"},
            "doc_number_fits": {"o10"},  # 22 characters
            "display_name_present": {"o11"},
            "display_name_fits": {"o13"},
            "total_not_negative": {"o14"},
            "currency_iso_4217": {"o15"},
            "sources_not_quarantined": {"o2", "o16", "o17"},
        },
        (
            f"delete from {PLANNED} where opportunity_id is null or doc_number = 'SF-2010' or opportunity_id = 'o4'",
            f"update {PLANNED} set doc_number = 'SF-2005' where opportunity_id = 'o5'",
            f"update {PLANNED} set customer_id = '2' where opportunity_id = 'o6'",
            f"update {PLANNED} set line_count = 1 where opportunity_id = 'o7'",
            f"update {PLANNED} set unmapped_item_count = 0 where opportunity_id = 'o8'",
            f"update {PLANNED} set doc_number = 'SF-2010' where opportunity_id = 'o10'",
            f"update {PLANNED} set display_name = 'Acme Corp' where opportunity_id in ('o11', 'o13')",
            f"update {PLANNED} set total_amt = 1 where opportunity_id = 'o14'",
            f"update {PLANNED} set currency = 'USD' where opportunity_id = 'o15'",
            "update sync.quarantine set released_at = now() where suite in ('sf_opportunity', 'qb_customer', 'sf_account')",
        ),
    ),
    Scenario(
        "planned_customers",
        (
            # Good ones: a create with email, term and a foreign currency; a sparse update that does
            # not rename; a sent and a held create whose bad names are nobody's business any more.
            _customer_writes(
                ("customer:a3:v1", "create", "a3", '{"DisplayName": "Gamma Ltd", "PrimaryEmailAddr": {"Address": '
                 '"ap@gamma.example"}, "SalesTermRef": {"value": "t1"}, "CurrencyRef": {"value": "EUR"}}'),
                ("customer-update:1:0:aa", "update", "a1", '{"Id": "1", "SyncToken": "0", "sparse": true, '
                 '"PrimaryPhone": {"FreeFormNumber": "555-0100"}}'),
            ),
            """insert into sync.outbox (idempotency_key, entity, operation, phase, source_object, source_id,
                                       payload, payload_hash, status) values
               ('customer:s1:v1', 'Customer', 'create', 1, 'Account', 's1', '{"DisplayName": "Acme Corp"}', 'x', 'sent'),
               ('customer:s2:v1', 'Customer', 'create', 1, 'Account', 's2', '{}', 'x', 'held')""",
            _customer_writes(
                ("customer:a4:v1", "create", "a4", '{"CompanyName": "Four"}'),
                ("customer:a5:v1", "create", "a5", '{"DisplayName": "   "}'),
                ("customer:a6:v1", "create", "a6", '{"DisplayName": ""}'),
                ("customer:a7:v1", "create", "a7", '{"DisplayName": "' + "n" * 501 + '"}'),
                ("customer:a8:v1", "create", "a8", '{"DisplayName": " Padded Co"}'),
                ("customer:a9:v1", "create", "a9", '{"DisplayName": "Delta Co"}'),
                ("customer:a10:v1", "create", "a10", '{"DisplayName": "DELTA  co"}'),
                ("customer:a11:v1", "create", "a11", '{"DisplayName": "BETA  gmbh"}'),
                ("customer-update:2:0:bb", "update", "a2x", '{"Id": "2", "SyncToken": "0", "sparse": true, '
                 '"DisplayName": "Acme Corp"}'),
                ("customer:a12:v1", "create", "a12", '{"DisplayName": "Twelve", "PrimaryEmailAddr": {"Address": '
                 '"not-an-email"}}'),
                ("customer:a13:v1", "create", "a13", '{"DisplayName": "Thirteen", "PrimaryEmailAddr": {"Address": '
                 '"' + "m" * 95 + '@x.example"}}'),
                ("customer:a14:v1", "create", "a14", '{"DisplayName": "Fourteen", "CurrencyRef": {"value": "XXX"}}'),
                ("customer:a15:v1", "create", "a15", '{"DisplayName": "Fifteen", "SalesTermRef": {"value": "t9"}}'),
                ("customer-update:99:0:cc", "update", "a16", '{"Id": "99", "SyncToken": "0", "sparse": true, '
                 '"PrimaryPhone": {"FreeFormNumber": "1"}}'),
                ("customer-update:3:0:dd", "update", "a17", '{"Id": "3", "SyncToken": "0", "sparse": true, '
                 '"PrimaryPhone": {"FreeFormNumber": "1"}}'),
                ("customer:a18:v1", "create", "a18", '{"DisplayName": "Eighteen", "CompanyName": "' + "c" * 101
                 + '", "BillAddr": {"PostalCode": "' + "9" * 31 + '"}}'),
                ("customer:a2:v1", "create", "a2", '{"DisplayName": "Beta Two"}'),
            ),
            # The account a2 is held back by its staging check.
            """insert into sync.quarantine (table_name, record_id, suite, expectation, reason, severity) values
               ('staging.sf_account', 'a2', 'sf_account', 'qbo_customer_link_unique', 'shared link', 'warning')""",
        ),
        {
            "display_name_present": {"customer:a4:v1"},
            "display_name_not_blank": {"customer:a5:v1", "customer:a6:v1"},
            "display_name_fits": {"customer:a6:v1", "customer:a7:v1"},
            "display_name_trimmed": {"customer:a5:v1", "customer:a8:v1"},
            "display_name_unique_in_plan": {"customer:a9:v1", "customer:a10:v1"},
            # Customer 2 is "Beta GmbH" in QBO; the update would rename customer 2 to customer 1's name.
            "display_name_not_in_qbo": {"customer:a11:v1", "customer-update:2:0:bb"},
            "email_well_formed": {"customer:a12:v1"},
            "email_fits": {"customer:a13:v1"},
            "currency_iso_4217": {"customer:a14:v1"},
            "sales_term_usable": {"customer:a15:v1"},
            # 99 does not exist; 3 is inactive.
            "update_target_live": {"customer-update:99:0:cc", "customer-update:3:0:dd"},
            "fields_fit": {"customer:a18:v1"},
            "sources_not_quarantined": {"customer:a2:v1"},
        },
        (
            _customer_payload("customer:a4:v1", '{"DisplayName": "Four", "CompanyName": "Four"}'),
            _customer_payload("customer:a5:v1", '{"DisplayName": "Five"}'),
            _customer_payload("customer:a6:v1", '{"DisplayName": "Six"}'),
            _customer_payload("customer:a7:v1", '{"DisplayName": "' + "n" * 500 + '"}'),
            _customer_payload("customer:a8:v1", '{"DisplayName": "Padded Co"}'),
            _customer_payload("customer:a10:v1", '{"DisplayName": "Delta Co (EU)"}'),
            _customer_payload("customer:a11:v1", '{"DisplayName": "Acme Corp (SF a11)"}'),
            "delete from sync.outbox where idempotency_key = 'customer-update:2:0:bb'",
            _customer_payload("customer:a12:v1", '{"DisplayName": "Twelve", "PrimaryEmailAddr": {"Address": '
                              '"ap@twelve.example"}}'),
            _customer_payload("customer:a13:v1", '{"DisplayName": "Thirteen"}'),
            _customer_payload("customer:a14:v1", '{"DisplayName": "Fourteen", "CurrencyRef": {"value": "GBP"}}'),
            "insert into staging.qb_term (id, name, due_days, active) values ('t9', 'Net 9', 9, true)",
            "update sync.outbox set status = 'sent' where idempotency_key = 'customer-update:99:0:cc'",
            "update staging.qb_customer set active = true where id = '3'",
            _customer_payload("customer:a18:v1", '{"DisplayName": "Eighteen", "CompanyName": "' + "c" * 100
                              + '", "BillAddr": {"PostalCode": "99999"}}'),
            "update sync.quarantine set released_at = now() where suite = 'sf_account'",
        ),
    ),
]
