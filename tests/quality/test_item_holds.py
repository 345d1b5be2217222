"""A QBO item held by the qb_item checks is not mapped to: its products take the flagged fallback item.

A tiny generated company in staging, the real `qb_item` suite and the real planner; nothing is
sent (what is sent is the planner's payload, covered by the end-to-end tests).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledgerlink.config import ItemMapping, Settings
from ledgerlink.load.invoices import Item, OppLine, PlanProblem
from ledgerlink.load.planner import HoldingItemResolver, plan_invoices
from ledgerlink.quality.gate import run_suite
from ledgerlink.quality.quarantine import open_quarantine_ids
from ledgerlink.quality.suites import suite_by_name
from tests.load.conftest import link_truth, load_dataset, tiny_dataset

STANDARD, PROFESSIONAL = "3", "4"  # 'Platform License - Standard' / '- Professional' in the tiny company
SERVICES = "900"


def _planned_lines(conn) -> list[tuple[str, str, list[str]]]:
    """(product description, item id, invoice flags) of every invoice line the planner would send."""
    rows = conn.execute("select payload, flags from sync.outbox where entity = 'Invoice' and operation = 'create'"
                        " and status = 'pending'").fetchall()
    return [(line["Description"], line["SalesItemLineDetail"]["ItemRef"]["value"], flags)
            for payload, flags in rows for line in payload["Line"]]


@pytest.fixture
def company(conn):
    dataset = tiny_dataset()
    # The fallback item (settings loads.item_mapping.fallback_item), so unmapped products are invoiced.
    dataset.qbo["Item"].append({"Id": SERVICES, "SyncToken": "0", "Name": "Services", "Type": "Service",
                                "UnitPrice": Decimal(0), "Active": True})
    load_dataset(conn, dataset)
    link_truth(conn, dataset)
    return dataset


def test_products_of_a_held_item_take_the_flagged_fallback_until_the_item_is_fixed(conn, db_url, company):
    suite = suite_by_name("qb_item")
    # Somebody renamed an item to another's name: mapping a product to it by name is ambiguous.
    conn.execute("update staging.qb_item set name = 'Platform License - Professional' where id = %s", (STANDARD,))
    run_suite(db_url, suite, run_id="r1", run_date=company.as_of)
    assert open_quarantine_ids(conn, "staging.qb_item") == {STANDARD, PROFESSIONAL}

    plan_invoices(conn, Settings(), as_of=company.as_of)
    lines = _planned_lines(conn)
    professional = [(item, flags) for product, item, flags in lines if product == "Platform License - Professional"]
    assert professional, "the dataset must invoice the Professional licence"
    assert {item for item, _ in professional} == {SERVICES}
    assert all(any(f.startswith("fallback_item:Platform License - Professional") and "is held" in f for f in flags)
               for _, flags in professional)
    assert not {item for _, item, _ in lines} & {STANDARD, PROFESSIONAL}
    # Other products keep their own items.
    assert {item for _, item, _ in lines} - {SERVICES}

    conn.execute("update staging.qb_item set name = 'Platform License - Standard' where id = %s", (STANDARD,))
    run_suite(db_url, suite, run_id="r2", run_date=company.as_of)
    assert open_quarantine_ids(conn, "staging.qb_item") == set()

    plan_invoices(conn, Settings(), as_of=company.as_of)
    lines = _planned_lines(conn)
    assert {item for product, item, _ in lines if product == "Platform License - Professional"} == {PROFESSIONAL}
    assert not any("is held" in f for _, _, flags in lines for f in flags)


def test_a_held_fallback_item_holds_the_lines_that_need_it():
    items = [Item("1", "Widget"), Item("2", "Services")]
    resolver = HoldingItemResolver(ItemMapping(), items, held={"2"})
    widget = OppLine("00k1", "01t1", "Widget", None, Decimal(1), Decimal(5), Decimal(5))
    assert resolver.resolve(widget) == (items[0], None)
    gadget = OppLine("00k2", "01t2", "Gadget", None, Decimal(1), Decimal(5), Decimal(5))
    with pytest.raises(PlanProblem, match="'Services'.*QBO item 2, held by a data-quality check"):
        resolver.resolve(gadget)
