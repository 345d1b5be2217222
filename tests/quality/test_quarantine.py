"""Quarantine life cycle: held while bad, released when fixed or deleted, history kept, and the
cases where a row-level failure is really a table-level one."""

from __future__ import annotations

import json

from ledgerlink.quality import gate
from ledgerlink.quality.gate import ERROR, WARN
from ledgerlink.quality.quarantine import open_quarantine_ids, release_removed_suites
from ledgerlink.quality.suites import load_suite
from tests.quality.data import RUN_DATE, open_holds, seed

OPP = "staging.sf_opportunity"


def _rule(name, column, severity="critical", quarantine=None, etype="expect_column_values_to_be_between", **kwargs):
    meta = {"name": name, "description": f"{column} must be valid"}
    if quarantine is not None:
        meta["quarantine"] = {"table": OPP, "key": "id", **quarantine}
    return {"type": etype, "kwargs": {"column": column, **kwargs}, "severity": severity, "meta": meta}


def _suite(tmp_path, *rules, source=OPP, blocking=True, name="opp_rules"):
    directory = tmp_path / f"v{len(list(tmp_path.glob('v*')))}"
    directory.mkdir()
    path = directory / f"{name}.json"
    path.write_text(json.dumps({
        "name": name,
        "meta": {"asset": ["staging", "sf_opportunity"], "source": {"table": source}, "blocking": blocking},
        "expectations": list(rules),
    }))
    return load_suite(path, {})


AMOUNT = _rule("amount_ok", "amount", quarantine={}, min_value=0)
CURRENCY = _rule("currency_ok", "currency_iso_code", etype="expect_column_values_to_be_in_set",
                 quarantine={}, value_set=["USD", "EUR"])


def _run(db_url, suite, run_id):
    return gate.run_suite(db_url, suite, run_id=run_id, run_date=RUN_DATE, parameters={})


def _rows(conn, record_id):
    return conn.execute(
        "select first_seen_run, last_seen_run, released_run, value from sync.quarantine"
        " where record_id = %s order by id", (record_id,)
    ).fetchall()


def test_held_while_bad_released_when_fixed_and_reopened_as_new_history(db_url, conn, tmp_path):
    seed(conn)
    suite = _suite(tmp_path, AMOUNT)
    conn.execute(f"update {OPP} set amount = -5 where id = 'o2'")

    _run(db_url, suite, "r1")
    _run(db_url, suite, "r2")
    assert open_quarantine_ids(conn, OPP) == {"o2"}
    assert _rows(conn, "o2") == [("r1", "r2", None, "-5.00")]  # one open row, seen twice

    conn.execute(f"update {OPP} set amount = 50 where id = 'o2'")
    fixed = _run(db_url, suite, "r3")
    assert fixed.passed and fixed.released == 1
    assert open_quarantine_ids(conn, OPP) == set()

    conn.execute(f"update {OPP} set amount = -7 where id = 'o2'")
    _run(db_url, suite, "r4")
    assert _rows(conn, "o2") == [("r1", "r2", "r3", "-5.00"), ("r4", "r4", None, "-7.00")]


def test_a_record_deleted_at_the_source_is_released(db_url, conn, tmp_path):
    seed(conn)
    suite = _suite(tmp_path, AMOUNT)
    conn.execute(f"update {OPP} set amount = -5 where id = 'o2'")
    _run(db_url, suite, "r1")
    conn.execute(f"update {OPP} set _deleted = true where id = 'o2'")
    _run(db_url, suite, "r2")
    assert open_quarantine_ids(conn, OPP) == set()
    assert _rows(conn, "o2")[0][2] == "r2"


def test_a_record_stays_held_until_every_expectation_passes(db_url, conn, tmp_path):
    seed(conn)
    suite = _suite(tmp_path, AMOUNT, CURRENCY)
    conn.execute(f"update {OPP} set amount = -5, currency_iso_code = 'CAD' where id = 'o2'")
    _run(db_url, suite, "r1")
    assert open_holds(conn, "opp_rules") == {"amount_ok": {(OPP, "o2")}, "currency_ok": {(OPP, "o2")}}

    conn.execute(f"update {OPP} set amount = 50 where id = 'o2'")
    _run(db_url, suite, "r2")
    assert open_quarantine_ids(conn, OPP) == {"o2"}
    conn.execute(f"update {OPP} set currency_iso_code = 'EUR' where id = 'o2'")
    _run(db_url, suite, "r3")
    assert open_quarantine_ids(conn, OPP) == set()


def test_widespread_row_failures_count_as_table_level_and_block(db_url, conn, tmp_path):
    seed(conn)
    suite = _suite(tmp_path, _rule("amount_ok", "amount", quarantine={"max_percent": 50}, min_value=0))
    conn.execute(f"update {OPP} set amount = -1 where id in ('o1', 'o2', 'o3')")  # 3 of 4
    run = _run(db_url, suite, "r1")
    outcome = run.outcomes[0]
    assert "above max_percent=50" in outcome.escalated
    assert outcome.level == ERROR and run.blocks
    assert open_quarantine_ids(conn, OPP) == {"o1", "o2", "o3"}  # still held: they are bad


def test_a_widespread_warning_does_not_block(db_url, conn, tmp_path):
    seed(conn)
    rule = _rule("amount_ok", "amount", severity="warning", quarantine={"max_percent": 50}, min_value=0)
    conn.execute(f"update {OPP} set amount = -1 where id in ('o1', 'o2', 'o3')")
    run = _run(db_url, _suite(tmp_path, rule), "r1")
    assert run.outcomes[0].escalated and run.severity == WARN and not run.blocks


def test_more_failures_than_max_rows_are_not_quarantined(db_url, conn, tmp_path):
    seed(conn)
    suite = _suite(tmp_path, _rule("amount_ok", "amount", quarantine={"max_rows": 1}, min_value=0))
    conn.execute(f"update {OPP} set amount = -1 where id in ('o1', 'o2')")
    run = _run(db_url, suite, "r1")
    assert "exceed max_rows=1" in run.outcomes[0].escalated
    assert run.blocks
    assert open_quarantine_ids(conn, OPP) == set()


def test_failing_rows_without_a_key_make_it_table_level(db_url, conn, tmp_path):
    seed(conn)
    line = {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "total_price", "min_value": 0},
        "meta": {"name": "total_ok", "quarantine": {"table": OPP, "key": "opportunity_id"}},
    }
    suite = _suite(tmp_path, line, source="staging.sf_opportunity_line_item")
    conn.execute("update staging.sf_opportunity_line_item set total_price = -1 where id = 'l3'")
    conn.execute(
        "insert into staging.sf_opportunity_line_item (id, opportunity_id, total_price) values ('l9', null, -2)"
    )
    run = _run(db_url, suite, "r1")
    assert "1 failing rows have no opportunity_id" in run.outcomes[0].escalated
    assert open_quarantine_ids(conn, OPP) == {"o2"}  # the line's opportunity is held


def test_an_expectation_that_cannot_run_is_an_error_and_releases_nothing(db_url, conn, tmp_path):
    seed(conn)
    conn.execute(f"update {OPP} set amount = -5 where id = 'o2'")
    _run(db_url, _suite(tmp_path, AMOUNT), "r1")

    typo = _rule("amount_ok", "amuont", quarantine={}, min_value=0)
    run = _run(db_url, _suite(tmp_path, typo), "r2")
    outcome = run.outcomes[0]
    assert outcome.outcome == "error" and "amuont" in outcome.message
    assert outcome.level == ERROR and run.blocks
    assert open_quarantine_ids(conn, OPP) == {"o2"}


def test_removing_an_expectation_releases_its_holds(db_url, conn, tmp_path):
    seed(conn)
    conn.execute(f"update {OPP} set amount = -5, currency_iso_code = 'CAD' where id = 'o2'")
    _run(db_url, _suite(tmp_path, AMOUNT, CURRENCY), "r1")
    _run(db_url, _suite(tmp_path, AMOUNT), "r2")
    assert open_holds(conn, "opp_rules") == {"amount_ok": {(OPP, "o2")}}


def test_holds_of_a_deleted_suite_file_are_released(db_url, conn, tmp_path):
    seed(conn)
    conn.execute(f"update {OPP} set amount = -5 where id = 'o2'")
    _run(db_url, _suite(tmp_path, AMOUNT), "r1")
    assert release_removed_suites(conn, suites=["opp_rules"], run_id="r2") == 0
    assert open_quarantine_ids(conn, OPP) == {"o2"}
    assert release_removed_suites(conn, suites=["sf_opportunity"], run_id="r2") == 1
    assert open_quarantine_ids(conn, OPP) == set()


def test_results_are_stored_per_run(db_url, conn, tmp_path):
    seed(conn)
    conn.execute(f"update {OPP} set amount = -5 where id = 'o2'")
    _run(db_url, _suite(tmp_path, AMOUNT, CURRENCY), "r1")
    rows = conn.execute(
        "select expectation, outcome, unexpected_count, quarantined, newly_quarantined, examples, suite_rows"
        " from sync.quality_result where run_id = 'r1' order by expectation"
    ).fetchall()
    assert rows == [
        ("amount_ok", "failed", 1, 1, 1, [{"id": "o2", "amount": "-5.00"}], 4),
        ("currency_ok", "passed", None, 0, 0, [], 4),
    ]
