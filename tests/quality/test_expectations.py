"""Each expectation of each suite, against rows crafted to break it.

One test per suite: good data passes; the breaking rows fail exactly the expectations meant to
fail, at the right severity, quarantining exactly the bad records; fixing the source (a later
extract) releases them on the next validation.
"""

from __future__ import annotations

import pytest

from ledgerlink.quality import gate, suites
from ledgerlink.quality.gate import ERROR, WARN
from tests.quality.data import RUN_DATE, drop_keys, open_holds, seed
from tests.quality.scenarios import SCENARIOS


def test_scenarios_cover_every_expectation():
    covered = {s.suite: set(s.failures) for s in SCENARIOS}
    for suite in suites.load_suites():
        assert covered.get(suite.name) == {r.name for r in suite.rules}, suite.name


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.suite)
def test_expectations_catch_bad_rows_and_release_them_when_fixed(scenario, db_url, conn):
    suite = suites.suite_by_name(scenario.suite)
    seed(conn)
    for table in scenario.drop_keys:
        drop_keys(conn, table)

    def validate(run_id):
        return gate.run_suite(db_url, suite, run_id=run_id, run_date=RUN_DATE, source_table=scenario.source_table)

    good = validate("good")
    assert [o.rule.name for o in good.outcomes if o.outcome != "passed"] == []
    assert good.passed and not good.blocks

    for statement in scenario.breaks:
        conn.execute(statement)
    bad = validate("bad")
    outcomes = {o.rule.name: o for o in bad.outcomes}
    assert {name for name, o in outcomes.items() if o.outcome != "passed"} == set(scenario.failures)
    for name, held in scenario.failures.items():
        outcome, rule = outcomes[name], outcomes[name].rule
        assert outcome.outcome == "failed", (name, outcome.message)
        if held is None:
            assert rule.quarantine is None, name
            assert outcome.level == (ERROR if rule.severity == "critical" else WARN), name
        else:
            assert rule.quarantine is not None, name
            assert outcome.escalated is None, (name, outcome.escalated)
            assert outcome.level == WARN, name
            assert outcome.evaluation.examples, name
    assert open_holds(conn, suite.name) == {
        name: {(suite.rule(name).quarantine.table, record) for record in held}
        for name, held in scenario.failures.items()
        if held
    }
    critical_table_failure = any(
        held is None and suite.rule(name).severity == "critical" for name, held in scenario.failures.items()
    )
    assert bad.blocks == (suite.blocking and critical_table_failure)
    assert bad.severity == (ERROR if critical_table_failure else WARN)

    for statement in scenario.fixes:
        conn.execute(statement)
    fixed = validate("fixed")
    assert [o.rule.name for o in fixed.outcomes if o.outcome != "passed"] == []
    assert open_holds(conn, suite.name) == {}
    assert fixed.released == sum(len(held) for held in scenario.failures.values() if held)
