"""The seeded generator: reproducible, internally consistent, messy, and its truth follows the rules."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ledgerlink.reconcile.rules import DEFAULT_RATES, Category, opportunity_ref
from sandbox.generator import PROFILES, generate, ground_truth_reconciliation
from sandbox.generator.ids import KEY_PREFIXES, sf_checksum
from sandbox.generator.truth import is_live, to_home

AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def small():
    return generate("small", seed=0, as_of=AS_OF)


def _key(row: dict) -> tuple:
    return (row["month"], row["sf_opportunity_id"], row["qb_invoice_id"])


def test_same_seed_same_data_and_other_seed_other_data():
    a = generate("tiny", seed=3, as_of=AS_OF)
    b = generate("tiny", seed=3, as_of=AS_OF)
    c = generate("tiny", seed=4, as_of=AS_OF)
    assert a.salesforce == b.salesforce
    assert a.qbo == b.qbo
    assert a.truth.to_json() == b.truth.to_json()
    assert a.salesforce["Account"] != c.salesforce["Account"]
    assert [x["Name"] for x in a.salesforce["Account"]] != [x["Name"] for x in c.salesforce["Account"]]
    assert a.truth.to_json() != c.truth.to_json()


def test_as_of_moves_the_data_with_it():
    later = generate("tiny", seed=3, as_of=AS_OF + timedelta(days=40))
    closes = [o["CloseDate"] for o in later.salesforce["Opportunity"] if o["IsClosed"]]
    assert max(closes) <= AS_OF + timedelta(days=40)
    assert max(closes) > AS_OF


def test_unknown_profile_names_the_choices():
    with pytest.raises(ValueError) as excinfo:
        generate("huge")
    for name in PROFILES:
        assert name in str(excinfo.value)


@pytest.mark.parametrize(
    ("profile", "accounts", "opportunities"),
    [("tiny", (15, 60), (60, 60)), ("small", (400, 650), (2000, 2000))],
)
def test_profile_sizes(profile, accounts, opportunities):
    dataset = generate(profile, seed=1, as_of=AS_OF)
    assert accounts[0] <= len(dataset.salesforce["Account"]) <= accounts[1]
    assert opportunities[0] <= len(dataset.salesforce["Opportunity"]) <= opportunities[1]
    assert len(dataset.qbo["Customer"]) >= 0.7 * len(dataset.salesforce["Account"])
    assert len(dataset.qbo["Invoice"]) > 0.2 * len(dataset.salesforce["Opportunity"])


def test_salesforce_ids_are_real_shaped_unique_and_referenced(small):
    sf = small.salesforce
    seen = set()
    for sobject, records in sf.items():
        for record in records:
            record_id = record["Id"]
            assert re.fullmatch(r"[A-Za-z0-9]{18}", record_id), record_id
            assert record_id.startswith(KEY_PREFIXES[sobject])
            assert sf_checksum(record_id[:15]) == record_id[15:]
            assert record_id not in seen
            seen.add(record_id)
            assert isinstance(record["SystemModstamp"], datetime) and record["SystemModstamp"].tzinfo is not None
            assert record["SystemModstamp"] <= datetime(2026, 11, 22, tzinfo=UTC)
            assert isinstance(record["IsDeleted"], bool)
    ids = {name: {r["Id"] for r in records} for name, records in sf.items()}
    assert all(o["AccountId"] in ids["Account"] and o["OwnerId"] in ids["User"] for o in sf["Opportunity"])
    assert all(c["AccountId"] in ids["Account"] for c in sf["Contact"])
    assert all(a["OwnerId"] in ids["User"] for a in sf["Account"])
    for item in sf["OpportunityLineItem"]:
        assert item["OpportunityId"] in ids["Opportunity"]
        assert item["Product2Id"] in ids["Product2"]
        assert item["PricebookEntryId"] in ids["PricebookEntry"]
    live_accounts = {a["Id"] for a in sf["Account"] if not a["IsDeleted"]}
    assert all(o["AccountId"] in live_accounts for o in sf["Opportunity"]), "merged (deleted) accounts keep no deals"


def test_opportunities_add_up_except_the_flagged_few(small):
    sf = small.salesforce
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in sf["OpportunityLineItem"]:
        assert item["TotalPrice"] == item["Quantity"] * item["UnitPrice"]
        if not item["IsDeleted"]:
            totals[item["OpportunityId"]] += item["TotalPrice"]
    flagged = set(small.extras["amount_line_mismatch_opportunity_ids"])
    assert flagged, "the small profile has deliberate Amount vs line-item mismatches"
    for opp in sf["Opportunity"]:
        assert (opp["IsWon"], opp["IsClosed"]) == {
            "Closed Won": (True, True), "Closed Lost": (False, True)
        }.get(opp["StageName"], (False, False))
        if opp["IsDeleted"]:
            continue
        if opp["Id"] in flagged:
            assert abs(opp["Amount"] - totals[opp["Id"]]) > Decimal("0.01")
        else:
            assert opp["Amount"] == totals[opp["Id"]], opp["Id"]
    closed = [o["CloseDate"] for o in sf["Opportunity"] if o["IsClosed"]]
    assert min(closed) >= AS_OF - timedelta(days=560) and max(closed) <= AS_OF
    currencies = Counter(o["CurrencyIsoCode"] for o in sf["Opportunity"])
    assert currencies.most_common(1)[0][0] == "USD" and set(currencies) == {"USD", "EUR", "GBP", "CAD"}


def test_a_few_deleted_records_in_each_object(small):
    for sobject in ("Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "PricebookEntry"):
        records = small.salesforce[sobject]
        deleted = sum(r["IsDeleted"] for r in records)
        assert 0 < deleted < 0.1 * len(records), sobject


def test_qbo_entities_are_consistent(small):
    qbo = small.qbo
    customers = {c["Id"]: c for c in qbo["Customer"]}
    items = {i["Id"] for i in qbo["Item"]}
    terms = {t["Id"]: t["DueDays"] for t in qbo["Term"]}
    names = [c["DisplayName"].lower() for c in qbo["Customer"]]
    assert len(names) == len(set(names)), "QBO DisplayNames are unique"
    docs = [t["DocNumber"] for kind in ("Invoice", "CreditMemo") for t in qbo[kind]]
    assert len(docs) == len(set(docs)) and all(len(d) <= 21 for d in docs)
    invoices = {i["Id"]: i for i in qbo["Invoice"]}
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for payment in qbo["Payment"]:
        applied = Decimal(0)
        for line in payment["Line"]:
            (link,) = line["LinkedTxn"]
            if link["TxnType"] == "Invoice":
                assert link["TxnId"] in invoices
                paid[link["TxnId"]] += line["Amount"]
                applied += line["Amount"]
        credit_application = any(line["LinkedTxn"][0]["TxnType"] == "CreditMemo" for line in payment["Line"])
        expected = Decimal(0) if credit_application else applied + payment["UnappliedAmt"]
        assert payment["TotalAmt"] == expected
        assert payment["TxnDate"] <= AS_OF.isoformat()
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in qbo["Invoice"]:
        assert invoice["CustomerRef"]["value"] in customers
        sales = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
        assert sales
        for line in sales:
            detail = line["SalesItemLineDetail"]
            assert detail["ItemRef"]["value"] in items
            assert line["Amount"] == detail["Qty"] * detail["UnitPrice"]
        assert invoice["TotalAmt"] == sum(line["Amount"] for line in sales)
        rate = DEFAULT_RATES[invoice["CurrencyRef"]["value"]]
        assert invoice["ExchangeRate"] == rate
        assert invoice["HomeTotalAmt"] == to_home(invoice["TotalAmt"], invoice["CurrencyRef"]["value"])
        assert invoice["CurrencyRef"]["value"] == customers[invoice["CustomerRef"]["value"]]["CurrencyRef"]["value"]
        txn = date.fromisoformat(invoice["TxnDate"])
        assert txn <= AS_OF
        assert date.fromisoformat(invoice["DueDate"]) == txn + timedelta(days=terms[invoice["SalesTermRef"]["value"]])
        assert invoice["Balance"] == invoice["TotalAmt"] - paid[invoice["Id"]] >= 0
        assert {link["TxnId"] for link in invoice["LinkedTxn"]} <= {p["Id"] for p in qbo["Payment"]}
        if not is_live(invoice):
            assert invoice["TotalAmt"] == invoice["Balance"] == 0
            assert invoice["PrivateNote"].startswith("Voided")
        balances[invoice["CustomerRef"]["value"]] += invoice["Balance"]
    for memo in qbo["CreditMemo"]:
        assert memo["InvoiceRef"]["value"] in invoices
        assert 0 <= memo["RemainingCredit"] <= memo["TotalAmt"]
        balances[memo["CustomerRef"]["value"]] -= memo["RemainingCredit"]
    for payment in qbo["Payment"]:
        balances[payment["CustomerRef"]["value"]] -= payment["UnappliedAmt"]
    # QBO's Customer.Balance: open invoices minus unused credit memos and unapplied payments.
    for customer in qbo["Customer"]:
        assert customer["Balance"] == balances[customer["Id"]]


def test_payments_cover_partial_full_and_over_payment_and_every_aging_bucket(small):
    invoices = [i for i in small.qbo["Invoice"] if is_live(i)]
    assert any(0 < i["Balance"] < i["TotalAmt"] for i in invoices), "partially paid"
    assert any(i["Balance"] == 0 and i["LinkedTxn"] for i in invoices), "fully paid"
    assert any(p["UnappliedAmt"] > 0 for p in small.qbo["Payment"]), "over-paid"
    buckets = Counter()
    for invoice in invoices:
        if invoice["Balance"] <= 0:
            continue
        overdue = (AS_OF - date.fromisoformat(invoice["DueDate"])).days
        buckets["current" if overdue <= 0 else "1-30" if overdue <= 30 else "31-60" if overdue <= 60 else "61-90" if overdue <= 90 else "91+"] += 1
    assert set(buckets) == {"current", "1-30", "31-60", "61-90", "91+"}, buckets
    assert len({i["CurrencyRef"]["value"] for i in invoices if i["Balance"] > 0}) >= 3


def test_every_category_occurs_in_the_small_profile(small):
    categories = Counter(row["category"] for row in small.truth.reconciliation)
    assert set(categories) == {c.value for c in Category}, categories
    assert categories["MATCHED"] == max(categories.values())


def test_recent_deals_are_mostly_waiting_to_be_invoiced(small):
    recent = [
        r for r in small.truth.reconciliation
        if r["sf_opportunity_id"] and r["closed_won_home"] > 0 and r["month"] >= "2026-10"
    ]
    not_invoiced = sum(r["category"] == "NOT_INVOICED" for r in recent)
    assert not_invoiced > 0.6 * len(recent)


@pytest.mark.parametrize(("profile", "seed"), [("tiny", s) for s in range(5)] + [("small", 0), ("small", 7)])
def test_intended_categories_agree_with_the_rules(profile, seed, small):
    dataset = small if (profile, seed) == ("small", 0) else generate(profile, seed=seed, as_of=AS_OF)
    intended = {_key(r): r["category"] for r in dataset.extras["intended_reconciliation"]}
    computed = {_key(r): r["category"] for r in dataset.truth.reconciliation}
    assert len(intended) == len(dataset.extras["intended_reconciliation"]), "one intended row per case"
    disagreements = {k: (intended.get(k), computed.get(k)) for k in intended.keys() | computed.keys() if intended.get(k) != computed.get(k)}
    assert not disagreements


def test_truth_rows_bridge_closed_won_to_invoiced_per_month(small):
    """Recomputed from the raw records, not from the rows: each opportunity and invoice counted once."""
    closed_won: dict[str, Decimal] = defaultdict(Decimal)
    for opp in small.salesforce["Opportunity"]:
        if opp["IsWon"] and not opp["IsDeleted"]:
            closed_won[opp["CloseDate"].isoformat()[:7]] += to_home(opp["Amount"], opp["CurrencyIsoCode"])
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in small.qbo["Invoice"]:
        if is_live(invoice):
            invoiced[invoice["TxnDate"][:7]] += invoice["HomeTotalAmt"]
    rows_cw: dict[str, Decimal] = defaultdict(Decimal)
    rows_inv: dict[str, Decimal] = defaultdict(Decimal)
    for row in small.truth.reconciliation:
        assert row["closed_won_home"] == row["closed_won_home"].quantize(Decimal("0.01"))
        rows_cw[row["month"]] += row["closed_won_home"]
        rows_inv[row["month"]] += row["invoiced_home"]
    assert {m: v for m, v in rows_cw.items() if v} == {m: v for m, v in closed_won.items() if v}
    assert {m: v for m, v in rows_inv.items() if v} == {m: v for m, v in invoiced.items() if v}
    months = {r["month"] for r in small.truth.reconciliation}
    assert months == set(closed_won) | {i["TxnDate"][:7] for i in small.qbo["Invoice"]}


def test_every_closed_won_deal_and_every_invoice_has_its_row(small):
    rows = small.truth.reconciliation
    opp_rows = Counter(r["sf_opportunity_id"] for r in rows if r["closed_won_home"] > 0 or r["category"] == "NOT_INVOICED")
    won = [o for o in small.salesforce["Opportunity"] if o["IsWon"] and not o["IsDeleted"]]
    assert all(opp_rows[o["Id"]] >= 1 for o in won)
    on_rows = {r["qb_invoice_id"] for r in rows}
    assert on_rows >= {i["Id"] for i in small.qbo["Invoice"]}
    for row in rows:
        if row["qb_invoice_id"] and row["category"] != "INVOICED_WITHOUT_OPPORTUNITY":
            invoice = next(i for i in small.qbo["Invoice"] if i["Id"] == row["qb_invoice_id"])
            if row["sf_opportunity_id"]:
                assert opportunity_ref(invoice.get("PrivateNote")) == row["sf_opportunity_id"]


def test_voided_invoices_still_name_their_opportunity(small):
    voided = [i for i in small.qbo["Invoice"] if not is_live(i)]
    assert voided
    assert any(opportunity_ref(i["PrivateNote"]) for i in voided)


def test_truth_depends_on_which_customer_is_linked(small):
    """A wrong customer map turns invoiced deals into CUSTOMER_MISMATCH: the map is really used."""
    rows = ground_truth_reconciliation(small, {})
    categories = Counter(r["category"] for r in rows)
    assert categories["CUSTOMER_MISMATCH"] > categories["MATCHED"]


def test_the_mess_is_there(small):
    sf_accounts = {a["Id"]: a for a in small.salesforce["Account"]}
    customers = {c["Id"]: c for c in small.qbo["Customer"]}
    links = small.truth.customer_links
    assert len(links) > 0.7 * len(sf_accounts)
    different = [(a, c) for a, c in links if sf_accounts[a]["Name"] != customers[c]["DisplayName"]]
    identical = [(a, c) for a, c in links if sf_accounts[a]["Name"] == customers[c]["DisplayName"]]
    assert 0.3 * len(links) < len(different) < 0.9 * len(links) and identical
    names = " ".join(sf_accounts[a]["Name"] + " | " + customers[c]["DisplayName"] for a, c in different)
    for token in ("Intl", "Corp", "Inc.", "LLC", "Ltd", "&", " and ", "The "):
        assert token in names, token
    assert any(a["Name"].isupper() or a["Name"].islower() for a in sf_accounts.values()) or any(
        c["DisplayName"].isupper() or c["DisplayName"].islower() for c in customers.values()
    )
    # Duplicates inside each system, all linked to the same customers.
    assert small.truth.sf_duplicate_clusters and small.truth.qb_duplicate_clusters
    linked_to: dict[str, set] = defaultdict(set)
    for a, c in links:
        linked_to[a].add(c)
    for cluster in small.truth.sf_duplicate_clusters:
        assert all(not sf_accounts[a]["IsDeleted"] for a in cluster)
        assert len({frozenset(linked_to[a]) for a in cluster}) == 1
    # Records only in one system.
    linked_accounts = {a for a, _ in links}
    linked_customers = {c for _, c in links}
    assert any(a not in linked_accounts for a, r in sf_accounts.items() if not r["IsDeleted"])
    assert any(c not in linked_customers for c in customers)
    # Already-linked accounts point at a true counterpart.
    preset = [(a["Id"], a["QBO_Customer_Id__c"]) for a in sf_accounts.values() if a["QBO_Customer_Id__c"]]
    assert preset and all(pair in set(links) for pair in preset)
    assert len(preset) < len(linked_accounts)
    # Formats differ: phones, addresses, missing fields.
    phones = [a["Phone"] for a in sf_accounts.values() if a["Phone"]]
    assert any(p.startswith("(") for p in phones) and any("." in p for p in phones) and any(p.startswith("+") for p in phones)
    assert any(a["Phone"] is None for a in sf_accounts.values())
    assert any(a["BillingPostalCode"] is None for a in sf_accounts.values())
    assert any(a["Website"] is None for a in sf_accounts.values())
    assert any("\n" in (a["BillingStreet"] or "") for a in sf_accounts.values())
    assert any("PostalCode" not in c["BillAddr"] for c in customers.values())
    lines1 = " ".join(c["BillAddr"].get("Line1", "") for c in customers.values())
    assert " St." in lines1 and "Street" in lines1 and ("#" in lines1 or "Ste" in lines1)


def test_hard_negatives_share_a_name_word_and_a_city_but_are_not_linked(small):
    accounts = [a for a in small.salesforce["Account"] if not a["IsDeleted"]]
    links = set(small.truth.customer_links)
    company_of = {}
    for n, cluster in enumerate(small.truth.sf_duplicate_clusters):
        for a in cluster:
            company_of[a] = n
    by_word_city = defaultdict(list)
    for a in accounts:
        first = a["Name"].removeprefix("The ").split(" ")[0].lower()
        by_word_city[(first, a["BillingCity"])].append(a)
    look_alikes = 0
    for group in by_word_city.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                same_company = a["Id"] in company_of and company_of.get(a["Id"]) == company_of.get(b["Id"])
                if not same_company and a["Name"].split()[1:2] != b["Name"].split()[1:2]:
                    look_alikes += 1
                    customers_a = {c for x, c in links if x == a["Id"]}
                    customers_b = {c for x, c in links if x == b["Id"]}
                    assert not customers_a & customers_b
    assert look_alikes >= 5
