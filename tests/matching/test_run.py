"""A matching run over the staging tables: what it stores, and how people's decisions stick."""

from __future__ import annotations

from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.run import run_customer_matching


def _xref(conn) -> dict[str, tuple]:
    rows = conn.execute("select sf_account_id, qb_customer_id, method, decided_by from sync.customer_xref").fetchall()
    return {r[0]: r[1:] for r in rows}


def _status(conn) -> dict[str, str]:
    return dict(conn.execute("select sf_account_id, status from sync.customer_match_status").fetchall())


def test_first_run_links_reviews_and_clusters(staged):
    summary = run_customer_matching(staged, MatchConfig(), "run-1")
    xref = _xref(staged)
    assert xref["001G"][:2] == ("20", "existing_xref")
    assert {xref["001A"][0], xref["001B"][0]} == {"10"}
    assert {xref["001A"][1], xref["001B"][1]} <= {"auto", "duplicate"}
    assert "001I" not in xref and "001H" not in xref
    assert _status(staged) == {"001A": "linked", "001B": "linked", "001G": "linked", "001I": "pending_review", "001H": "new"}
    pending = staged.execute("select sf_account_id, qb_customer_id, reason from sync.match_review where status = 'pending'").fetchall()
    assert [(a, b) for a, b, _ in pending] == [("001I", "30")]
    clusters = staged.execute("select system, record_id, cluster_id from sync.duplicate_cluster order by record_id").fetchall()
    assert [(s, r) for s, r, _ in clusters] == [("salesforce", "001A"), ("salesforce", "001B")]
    assert summary.counts["existing_xref"] == 1 and summary.counts["accounts_pending_review"] == 1
    # Every stored link explains itself field by field.
    contributions = staged.execute("select contributions from sync.customer_xref where sf_account_id = '001A'").fetchone()[0]
    assert contributions["name"]["similarity"] > 0.9 and contributions["phone"]["contribution"] > 0


def _decide(conn, sf: str, qb: str, decision: str, by: str = "alice") -> None:
    conn.execute(
        "insert into sync.match_decision (sf_account_id, qb_customer_id, decision, decided_by) values (%s, %s, %s, %s)",
        (sf, qb, decision, by),
    )


def test_human_decisions_win_over_scores_on_every_later_run(staged):
    run_customer_matching(staged, MatchConfig(), "run-1")
    _decide(staged, "001I", "30", "link")  # the review pair: a person says yes
    _decide(staged, "001B", "10", "not_a_match")  # a strong auto-link: a person says no
    for run in ("run-2", "run-3"):
        run_customer_matching(staged, MatchConfig(), run)
        xref = _xref(staged)
        assert xref["001I"] == ("30", "human", "alice")
        assert xref.get("001B", (None,))[0] != "10"
        assert xref["001A"][:2] == ("10", "auto")
    statuses = dict(staged.execute("select qb_customer_id, status from sync.match_review where sf_account_id = '001I'").fetchall())
    assert statuses == {"30": "decided"}


def test_later_decision_replaces_an_earlier_one(staged):
    _decide(staged, "001I", "30", "link")
    _decide(staged, "001I", "30", "not_a_match", by="bob")
    run_customer_matching(staged, MatchConfig(), "run-1")
    assert "001I" not in _xref(staged)
    assert _status(staged)["001I"] == "new"


def test_unchanged_links_keep_when_and_by_whom_they_were_decided(staged):
    run_customer_matching(staged, MatchConfig(), "run-1")
    first = staged.execute("select sf_account_id, decided_at, run_id from sync.customer_xref order by 1").fetchall()
    run_customer_matching(staged, MatchConfig(), "run-2")
    second = staged.execute("select sf_account_id, decided_at, run_id from sync.customer_xref order by 1").fetchall()
    assert [r[:2] for r in first] == [r[:2] for r in second]
    assert {r[2] for r in second} == {"run-2"}


def test_customers_the_loads_created_are_kept(staged):
    # The loads created customer 40 for Hooli: that link stands, whatever the scores say.
    staged.execute("insert into sync.customer_xref (sf_account_id, qb_customer_id, method, score) values ('001H', '40', 'created', 1.0)")
    run_customer_matching(staged, MatchConfig(), "run-1")
    assert _xref(staged)["001H"][:2] == ("40", "created")
    assert _status(staged)["001H"] == "linked"


def test_a_pending_review_that_data_resolves_becomes_stale(staged):
    run_customer_matching(staged, MatchConfig(), "run-1")
    # Someone fixes the phone in QBO: the pair is now an auto-link, no longer a question.
    staged.execute("update staging.qb_customer set phone = '512 555 0101' where id = '30'")
    run_customer_matching(staged, MatchConfig(), "run-2")
    assert _xref(staged)["001I"][:2] == ("30", "auto")
    assert staged.execute("select status from sync.match_review where sf_account_id = '001I'").fetchone()[0] == "stale"


def test_deleted_records_are_not_matched(staged):
    staged.execute("update staging.sf_account set is_deleted = true where id = '001B'")
    staged.execute("update staging.qb_customer set _deleted = true where id = '40'")
    run_customer_matching(staged, MatchConfig(), "run-1")
    assert "001B" not in _status(staged)
    assert staged.execute("select count(*) from sync.duplicate_cluster").fetchone()[0] == 0
