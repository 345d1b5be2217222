"""The suite files: they load, point at real assets and columns, and bad files fail clearly."""

from __future__ import annotations

import json
import re

import pytest
from psycopg import sql

from ledgerlink import db
from ledgerlink.db import ConfigurationError
from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS, child_table
from ledgerlink.quality.suites import load_parameters, load_suite, load_suites

# The columns the loads stage promises in sync.planned_invoice_check (expectations/README.md).
PLANNED_CONTRACT = {
    "opportunity_id", "customer_id", "display_name", "doc_number", "line_count", "unmapped_item_count",
    "total_amt", "currency", "existing_invoice_id",
}
# ... and in sync.planned_customer_check (migration 043).
PLANNED_CUSTOMER_CONTRACT = {
    "outbox_key", "operation", "account_id", "qb_customer_id", "name_required", "display_name",
    "planned_name_clashes", "qbo_name_owner", "email", "currency", "unusable_term_id", "missing_update_target",
    "oversized_fields",
}


def _staging_columns() -> dict[str, set[str]]:
    meta = {"raw", "_extracted_at", "_run_id", "_deleted"}
    tables = {f"staging.{s.table}": {c.name for c in s.columns} | meta for s in SALESFORCE_OBJECTS}
    for entity in QBO_ENTITIES:
        tables[f"staging.{entity.table}"] = {c.name for c in entity.all_columns} | meta
        for child in entity.children:
            tables[f"staging.{child_table(entity, child)}"] = {c.name for c in child.columns} | meta | {
                "parent_id", "line_no"}
    return tables


def test_every_staging_table_and_planned_writes_have_a_suite():
    suites = load_suites()
    sources = {s.source.table for s in suites if s.source.table}
    assert set(_staging_columns()) <= sources
    planned = [s for s in suites if s.asset_key == ("sync", "planned_invoices")]
    # One per planned-write table: invoice creations and customer creates/updates.
    assert sorted(s.source.sql for s in planned) == ["quality/planned_customers.sql", "quality/planned_invoices.sql"]
    assert len({s.name for s in suites}) == len(suites)


def test_suites_attach_to_extract_assets_or_planned_invoices():
    extract_assets = {("staging", spec.table) for spec in (*SALESFORCE_OBJECTS, *QBO_ENTITIES)}
    allowed = extract_assets | {("sync", "planned_invoices")}
    for suite in load_suites():
        assert suite.asset_key in allowed, suite.name
        assert set(suite.additional_deps) <= allowed, suite.name


def test_table_suites_only_name_columns_the_tables_have():
    tables = _staging_columns()
    for suite in load_suites():
        if suite.source.table in tables:
            missing = suite.columns - tables[suite.source.table]
            assert not missing, f"{suite.name}: {missing}"


def test_sql_suites_only_name_columns_their_query_returns(conn):
    for suite in load_suites():
        if suite.source.sql:
            query = db.read_sql(suite.source.sql).strip().rstrip(";")
            cur = conn.execute(sql.SQL("select * from ({}) q limit 0").format(sql.SQL(query)))
            returned = {c.name for c in cur.description}
            assert suite.columns <= returned, f"{suite.name}: {suite.columns - returned}"


def test_the_loads_view_provides_the_planned_invoice_contract(conn):
    """sync.planned_invoice_check (the loads stage's migration) has every column the suite reads."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in sorted(PLANNED_CONTRACT))
    conn.execute(sql.SQL("select {} from sync.planned_invoice_check limit 0").format(columns))
    query = db.read_sql("quality/planned_invoices.sql")
    read = set(re.findall(r"\bp\.([a-z_]+)", query))
    assert read == PLANNED_CONTRACT


def test_the_loads_view_provides_the_planned_customer_contract(conn):
    """sync.planned_customer_check (migration 043) has every column the suite's query reads."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in sorted(PLANNED_CUSTOMER_CONTRACT))
    conn.execute(sql.SQL("select {} from sync.planned_customer_check limit 0").format(columns))
    query = db.read_sql("quality/planned_customers.sql")
    read = set(re.findall(r"\bp\.([a-z_]+)", query))
    assert read == PLANNED_CUSTOMER_CONTRACT


def test_blocking_rules_are_what_would_corrupt_the_books():
    """Table-level critical expectations exist in every blocking suite; row-level ones quarantine."""
    for suite in load_suites():
        critical_table = [r for r in suite.rules if r.severity == "critical" and not r.quarantine]
        if suite.blocking and suite.source.table:
            assert critical_table, suite.name
    planned = next(s for s in load_suites() if s.name == "planned_invoices")
    assert {"no_existing_invoice", "one_invoice_per_opportunity"} <= {
        r.name for r in planned.rules if r.severity == "critical" and not r.quarantine}


def test_parameters_are_reference_lists():
    params = load_parameters()
    codes = params["iso_4217_currencies"]
    assert {"USD", "EUR", "GBP", "CAD", "JPY"} <= set(codes)
    assert all(len(c) == 3 and c.isupper() for c in codes)
    assert "XXX" not in codes and "GBX" not in codes


def _write(tmp_path, file="broken", **overrides):
    suite = {
        "name": file,
        "meta": {"asset": ["staging", "sf_account"], "source": {"table": "staging.sf_account"}, "blocking": True},
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}, "meta": {"name": "id_present"}}
        ],
    }
    for key, value in overrides.items():
        target, _, field = key.partition("__")
        if field:
            suite[target][field] = value
        else:
            suite[target] = value
    path = tmp_path / f"{file}.json"
    path.write_text(json.dumps(suite))
    return path


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "other"}, "name: must equal the file name"),
        ({"meta__asset": "staging.sf_account"}, "meta.asset: expected an asset key"),
        ({"meta__source": {"view": "x"}}, "meta.source: expected"),
        ({"meta__source": {"sql": "quality/nope.sql"}}, "meta.source.sql"),
        ({"meta__blocking": "yes"}, "meta.blocking: expected true or false"),
        ({"expectations": []}, "expectations: expected a non-empty list"),
        (
            {"expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}, "severity": "high"}]},
            "expectations[0].severity: expected one of critical, warning, info",
        ),
        (
            {"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1},
                               "meta": {"quarantine": {"table": "staging.sf_account", "key": "id"}}}]},
            "judges the table as a whole",
        ),
        (
            {"expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"},
                               "meta": {"quarantine": {"table": "sf_account", "key": "id"}}}]},
            "quarantine.table: expected <schema>.<table>",
        ),
        (
            {"expectations": [{"type": "expect_column_values_to_be_in_set",
                               "kwargs": {"column": "x", "value_set": {"$PARAMETER": "nope"}}}]},
            "unknown $PARAMETER ['nope']",
        ),
        (
            {"expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
                              {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}]},
            "are used twice",
        ),
    ],
)
def test_a_bad_suite_file_names_the_file_and_the_key(tmp_path, overrides, message):
    path = _write(tmp_path, **overrides)
    with pytest.raises(ConfigurationError) as raised:
        load_suite(path, {})
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_a_good_custom_suite_loads_with_defaults(tmp_path):
    suite = load_suite(_write(tmp_path, file="custom"), {})
    assert suite.check_name == "gx_custom"
    assert suite.key == ("id",)
    assert suite.rules[0].severity == "critical" and suite.rules[0].level == "table"
