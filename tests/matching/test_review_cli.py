"""`ledgerlink matches export-review / import-decisions`: the spreadsheet round trip a finance user does."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from ledgerlink.matching.cli import matches_app
from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.run import run_customer_matching

runner = CliRunner()


def _read(path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def exported(staged, tmp_path):
    run_customer_matching(staged, MatchConfig(), "run-1")
    path = tmp_path / "review.csv"
    result = runner.invoke(matches_app, ["export-review", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _decisions(conn) -> list[tuple]:
    return conn.execute("select sf_account_id, qb_customer_id, decision, decided_by from sync.match_decision").fetchall()


def test_export_lists_pending_pairs_with_their_reasons(exported):
    rows = _read(exported)
    assert [(r["kind"], r["left_id"], r["right_id"]) for r in rows] == [("account_customer", "001I", "30")]
    row = rows[0]
    assert row["left_name"] == "Initech Incorporated" and row["right_name"] == "Initech"
    assert "name 1.00" in row["why"] and "phone 0.00" in row["why"]
    assert "Austin" in row["left_details"] and row["decision"] == ""


def test_import_stores_decisions_and_links_at_once(staged, exported):
    rows = _read(exported)
    rows[0]["decision"] = " Link "
    _write(exported, rows)
    result = runner.invoke(matches_app, ["import-decisions", str(exported), "--by", "carol"])
    assert result.exit_code == 0, result.output
    assert "Stored 1 link" in result.output
    assert _decisions(staged) == [("001I", "30", "link", "carol")]
    assert staged.execute("select qb_customer_id, method from sync.customer_xref where sf_account_id = '001I'").fetchone() == ("30", "human")
    assert staged.execute("select status from sync.match_review where sf_account_id = '001I'").fetchone()[0] == "decided"
    # The next run agrees with the person.
    run_customer_matching(staged, MatchConfig(), "run-2")
    assert staged.execute("select method from sync.customer_xref where sf_account_id = '001I'").fetchone()[0] == "human"


def test_not_a_match_in_any_spelling_and_blank_rows(staged, exported, tmp_path):
    path = tmp_path / "decisions.csv"
    _write(path, [
        {"kind": "account_customer", "left_id": "001I", "right_id": "30", "decision": "Not a match", "note": "different phone"},
        {"kind": "account_customer", "left_id": "001A", "right_id": "40", "decision": "not_a_match", "note": ""},
        {"kind": "account_customer", "left_id": "001H", "right_id": "40", "decision": "", "note": ""},
    ])
    result = runner.invoke(matches_app, ["import-decisions", str(path), "--by", "dave"])
    assert result.exit_code == 0, result.output
    assert "1 row(s) left blank" in result.output
    assert sorted(_decisions(staged)) == [("001A", "40", "not_a_match", "dave"), ("001I", "30", "not_a_match", "dave")]


def test_a_file_with_errors_applies_nothing_and_names_row_column_and_value(staged, exported, tmp_path):
    path = tmp_path / "bad.csv"
    _write(path, [
        {"kind": "account_customer", "left_id": "001I", "right_id": "30", "decision": "link"},  # fine on its own
        {"kind": "account_customer", "left_id": "001X", "right_id": "30", "decision": "link"},  # unknown account
        {"kind": "account_customer", "left_id": "001A", "right_id": "999", "decision": "link"},  # unknown customer
        {"kind": "account_customer", "left_id": "001H", "right_id": "40", "decision": "maybe"},  # bad value
        {"kind": "qbo_duplicate", "left_id": "10", "right_id": "10", "decision": "link"},  # same record
        {"kind": "contact_thing", "left_id": "1", "right_id": "2", "decision": "link"},  # bad kind
    ])
    result = runner.invoke(matches_app, ["import-decisions", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "nothing was applied" in out
    assert "line 3, column 'left_id': no Salesforce account with id '001X'" in out
    assert "line 4, column 'right_id': no QBO customer with id '999'" in out
    assert "line 5, column 'decision': 'maybe' is not a decision" in out
    assert "line 6, column 'right_id': '10' is the same record as left_id" in out
    assert "line 7, column 'kind': 'contact_thing'" in out
    assert _decisions(staged) == []
    assert staged.execute("select count(*) from sync.customer_xref where method = 'human'").fetchone()[0] == 0


def test_contradicting_rows_and_two_customers_for_one_account_are_errors(staged, tmp_path):
    path = tmp_path / "contradict.csv"
    _write(path, [
        {"kind": "account_customer", "left_id": "001I", "right_id": "30", "decision": "link"},
        {"kind": "account_customer", "left_id": "001I", "right_id": "30", "decision": "not a match"},
        {"kind": "account_customer", "left_id": "001H", "right_id": "30", "decision": "link"},
        {"kind": "account_customer", "left_id": "001H", "right_id": "40", "decision": "link"},
    ])
    result = runner.invoke(matches_app, ["import-decisions", str(path)])
    assert result.exit_code == 1
    assert "line 3, column 'decision': 'not_a_match' contradicts line 2" in result.output
    assert "line 5, column 'right_id': account 001H is linked to '30' on line 4" in result.output
    assert _decisions(staged) == []


def test_missing_columns_are_named(staged, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("account,customer,verdict\n001I,30,link\n")
    result = runner.invoke(matches_app, ["import-decisions", str(path)])
    assert result.exit_code == 1
    assert "missing column(s) 'kind', 'left_id', 'right_id', 'decision'" in result.output
    assert "'account', 'customer', 'verdict'" in result.output


def test_duplicate_decisions_shape_the_next_runs_clusters(staged, tmp_path):
    run_customer_matching(staged, MatchConfig(), "run-1")
    path = tmp_path / "dups.csv"
    _write(path, [{"kind": "salesforce_duplicate", "left_id": "001B", "right_id": "001A", "decision": "not a match"}])
    result = runner.invoke(matches_app, ["import-decisions", str(path)])
    assert result.exit_code == 0, result.output
    assert staged.execute("select system, left_id, right_id from sync.duplicate_decision").fetchall() == [("salesforce", "001A", "001B")]
    run_customer_matching(staged, MatchConfig(), "run-2")
    assert staged.execute("select count(*) from sync.duplicate_cluster where system = 'salesforce'").fetchone()[0] == 0
