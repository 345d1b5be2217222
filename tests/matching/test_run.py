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
