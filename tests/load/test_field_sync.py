"""Customer fields both ways, each from its owner; changes on the losing side are recorded."""

from __future__ import annotations

import pytest

from ledgerlink.config import FieldOwnership
from ledgerlink.db import read_sql
from ledgerlink.extract.salesforce import extract_object
from ledgerlink.extract.specs import SPECS_BY_KEY
from ledgerlink.load.field_sync import Pair, plan_field_sync
from ledgerlink.load.steps import field_sync_step
from tests.load.conftest import extract_qbo, link_truth, load_dataset, qbo_client, sf_client, tiny_dataset

SCALE = 600


def pair(**overrides) -> Pair:
    sf = {"name": "Acme Corp", "billing_address": {"street": "1 Main St", "city": "Springfield", "state": "IL",
                                                   "postal_code": "62701", "country": "US"},
          "email": "ap@acme.example", "phone": "555-0100"}
    qb = {**sf, "payment_terms": "Net 30", "tax_settings": "false"}
    for key, value in overrides.items():
        side, group = key.split("__")
        (sf if side == "sf" else qb)[group] = value
    return Pair("001A", "7", "3", sf, qb)


def test_owner_value_flows_and_losing_side_change_is_a_conflict():
    state = {("001A", "7", "phone"): "555-0100", ("001A", "7", "name"): "Acme Corp"}
    # QBO's phone was edited (losing side); Salesforce renamed the account (owner side).
    plan = plan_field_sync([pair(qb__phone="555-9999", sf__name="Acme Corporation")], FieldOwnership(), state,
                           term_ids={"net 30": "3"}, sf_fields=set())
    assert [c["field"] for c in plan.conflicts] == ["phone"]
    assert plan.conflicts[0]["losing_value"] == "555-9999" and plan.conflicts[0]["last"] == "555-0100"
    ((customer, body, groups),) = plan.qbo_updates
    assert body["sparse"] is True and body["SyncToken"] == "3"
    assert body["DisplayName"] == "Acme Corporation" and body["PrimaryPhone"] == {"FreeFormNumber": "555-0100"}
    assert sorted(groups) == ["name", "phone"]
    # Payment terms are QBO's and Salesforce has no field for them: said once, nothing written.
    assert plan.sf_updates == [] and any("QBO_Payment_Terms__c" in w for w in plan.warnings)


def test_qbo_owned_fields_flow_to_salesforce_when_the_field_exists():
    ownership = FieldOwnership(phone="qbo")
    plan = plan_field_sync([pair(qb__phone="555-1234")], ownership, {("001A", "7", "phone"): "555-0100"},
                           term_ids={}, sf_fields={"QBO_Payment_Terms__c"})
    (update,) = plan.sf_updates
    assert update.fields == {"Phone": "555-1234", "QBO_Payment_Terms__c": "Net 30"}
    assert plan.conflicts == [] and plan.qbo_updates == []


@pytest.fixture
def linked(conn, db_url, sandbox_factory):
    """The tiny company in both emulators and in staging, customers linked as the truth says;
    returns (sandbox, qbo client, salesforce client)."""
    dataset = tiny_dataset()
    sandbox = sandbox_factory(dataset=dataset, time_scale=SCALE)
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    return sandbox, qbo_client(sandbox.env, db_url, time_scale=SCALE), sf_client(sandbox.env)


def test_field_sync_against_both_emulators(conn, db_url, settings, linked):
    sandbox, qbo, sf = linked

    first = field_sync_step(db_url, qbo, sf, settings, run_id="fs1")
    assert first.failed is None
    customers = sandbox.qbo.entities["Customer"]
    accounts = sandbox.sf.records["Account"]
    links = conn.execute("select sf_account_id, qb_customer_id from sync.customer_xref").fetchall()
    synced = [(a, c) for a, c in links if a in accounts and c in customers]
    # Salesforce owns the name: every linked customer now carries its account's name.
    renamed = [(a, c) for a, c in synced if " ".join(accounts[a]["Name"].split()) == customers[c]["DisplayName"]]
    assert first.counts["pairs"] > 0
    assert first.counts["qbo_customers_updated"] == first.counts["qbo_customer_updates_planned"] > 0
    assert len(renamed) >= first.counts["pairs"]

    # Next night: QBO re-extracted, nothing changed -> nothing written to QBO.
    extract_qbo(conn, qbo, entities=("Customer",))
    writes = sandbox.qbo.writes
    second = field_sync_step(db_url, qbo, sf, settings, run_id="fs2")
    assert second.counts["qbo_customer_updates_planned"] == 0 and sandbox.qbo.writes == writes
    assert second.counts["conflicts_recorded"] == 0

    # A bookkeeper edits the phone in QBO (Salesforce owns it): recorded, then overwritten.
    account, customer = next((a, c) for a, c in renamed if accounts[a].get("Phone"))

    def bookkeeper_sets_phone(request_id):
        body = {"Id": customer, "SyncToken": customers[customer]["SyncToken"], "sparse": True,
                "PrimaryPhone": {"FreeFormNumber": "(000) 000-0000"}}
        qbo.request("POST", "customer", body, request_id=request_id)
        extract_qbo(conn, qbo, entities=("Customer",))

    bookkeeper_sets_phone("hand-edit-phone")
    third = field_sync_step(db_url, qbo, sf, settings, run_id="fs3")
    assert third.counts["conflicts_recorded"] == 1
    field, owner, losing = conn.execute(
        "select field, owner, losing_value #>> '{}' from sync.field_conflict where run_id = 'fs3'").fetchone()
    assert (field, owner, losing) == ("phone", "salesforce", "(000) 000-0000")
    assert customers[customer]["PrimaryPhone"]["FreeFormNumber"] == accounts[account]["Phone"]

    # Weeks later the same hand edit again: the same overwrite must be sent again, not taken as done.
    extract_qbo(conn, qbo, entities=("Customer",))
    bookkeeper_sets_phone("hand-edit-phone-again")
    fourth = field_sync_step(db_url, qbo, sf, settings, run_id="fs4")
    assert fourth.counts["qbo_customers_updated"] == 1
    assert customers[customer]["PrimaryPhone"]["FreeFormNumber"] == accounts[account]["Phone"]


def test_qbo_terms_and_taxable_reach_salesforce_and_a_salesforce_edit_is_overwritten(conn, db_url, settings,
                                                                                    linked):
    sandbox, qbo, sf = linked
    customers = sandbox.qbo.entities["Customer"]
    accounts = sandbox.sf.records["Account"]
    terms = {t["Id"]: t["Name"] for t in sandbox.qbo.entities["Term"].values()}

    # A bookkeeper makes one linked customer taxable on Net 60 in QBO (QBO owns both).
    account, customer = conn.execute(
        "select sf_account_id, qb_customer_id from sync.customer_xref order by sf_account_id limit 1").fetchone()
    net_60 = next(tid for tid, name in terms.items() if name == "Net 60")
    qbo.request("POST", "customer", {"Id": customer, "SyncToken": customers[customer]["SyncToken"], "sparse": True,
                                     "Taxable": True, "SalesTermRef": {"value": net_60}}, request_id="make-taxable")
    extract_qbo(conn, qbo, entities=("Customer",))

    first = field_sync_step(db_url, qbo, sf, settings, run_id="fs1")
    assert first.failed is None and first.counts["warnings"] == []
    assert (accounts[account]["QBO_Payment_Terms__c"], accounts[account]["QBO_Taxable__c"]) == ("Net 60", True)
    # Every synchronised pair now shows its customer's terms and taxable flag on the account.
    pairs = conn.execute(f"select sf_account_id, qb_customer_id from ({read_sql('load/field_sync_pairs.sql')}) p"
                         ).fetchall()
    assert len(pairs) == first.counts["pairs"] > 1
    for a, c in pairs:
        expected = terms.get((customers[c].get("SalesTermRef") or {}).get("value"))
        assert accounts[a]["QBO_Payment_Terms__c"] == expected, a
        assert accounts[a]["QBO_Taxable__c"] is bool(customers[c].get("Taxable")), a

    # Somebody changes both on the Account in Salesforce: each change is recorded, then overwritten
    # (the overwrite is exactly what was pushed the first time, and is sent again).
    sf.call(lambda api: api.Account.update(account, {"QBO_Payment_Terms__c": "Net 15", "QBO_Taxable__c": False}))
    extract_object(sf, conn, SPECS_BY_KEY[("salesforce", "Account")], run_id="sf2", full_refresh=True)
    extract_qbo(conn, qbo, entities=("Customer",))
    second = field_sync_step(db_url, qbo, sf, settings, run_id="fs2")
    conflicts = conn.execute("select sf_account_id, field, owner_value #>> '{}', losing_value #>> '{}'"
                             " from sync.field_conflict where run_id = 'fs2' and owner = 'qbo' order by field"
                             ).fetchall()
    assert conflicts == [(account, "payment_terms", "Net 60", "Net 15"), (account, "tax_settings", "true", "false")]
    assert (accounts[account]["QBO_Payment_Terms__c"], accounts[account]["QBO_Taxable__c"]) == ("Net 60", True)
    assert second.counts["salesforce_accounts_updated"] == 1


def test_a_sync_rename_onto_a_name_qbo_already_has_is_held_not_sent(conn, db_url, settings, linked):
    sandbox, qbo, sf = linked
    assert field_sync_step(db_url, qbo, sf, settings, run_id="fs1").failed is None
    extract_qbo(conn, qbo, entities=("Customer",))
    customers = sandbox.qbo.entities["Customer"]
    (account, customer), (_, taken) = conn.execute(
        f"select sf_account_id, qb_customer_id from ({read_sql('load/field_sync_pairs.sql')}) p"
        " order by sf_account_id limit 2").fetchall()
    # Sales renames the account to the name another QBO customer already carries (Salesforce owns names).
    sf.call(lambda api: api.Account.update(account, {"Name": customers[taken]["DisplayName"]}))
    extract_object(sf, conn, SPECS_BY_KEY[("salesforce", "Account")], run_id="sf2", full_refresh=True)
    name_before = customers[customer]["DisplayName"]

    second = field_sync_step(db_url, qbo, sf, settings, run_id="fs2")
    assert second.failed is None
    assert customers[customer]["DisplayName"] == name_before  # not renamed into a clash
    held = conn.execute("select expectation from sync.open_quarantine where table_name = 'sync.planned_customers'"
                        ).fetchall()
    assert ("display_name_not_in_qbo",) in held
    assert conn.execute("select count(*) from sync.dead_letter where entity = 'Customer'").fetchone()[0] == 0
