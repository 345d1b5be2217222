"""The suites against the sandbox generator's realistic, messy company (not hand-made rows).

The generator records what it broke on purpose: opportunities whose Amount was typed over their
line items. Those, and only those, must be held back; nothing in the data may block the night.
"""

from __future__ import annotations

from ledgerlink.quality import gate
from ledgerlink.quality.quarantine import open_quarantine_ids
from ledgerlink.quality.suites import load_suites
from sandbox.generator import generate
from tests.load.conftest import load_dataset


def test_generated_company_blocks_nothing_and_holds_exactly_the_typed_over_amounts(db_url, conn):
    dataset = generate("tiny", seed=7)  # a seed whose company has a typed-over amount
    typed_over = set(dataset.extras["amount_line_mismatch_opportunity_ids"])
    assert typed_over
    load_dataset(conn, dataset)

    runs = [gate.run_suite(db_url, suite, run_id="generated", run_date=dataset.as_of)
            for suite in load_suites() if suite.asset_key[0] == "staging"]

    assert [r.suite.name for r in runs if r.blocks] == []
    failed = {(r.suite.name, o.rule.name) for r in runs for o in r.outcomes if o.outcome != "passed"}
    assert failed == {("opportunity_line_totals", "lines_add_up_to_amount")}
    assert open_quarantine_ids(conn, "staging.sf_opportunity") == typed_over
