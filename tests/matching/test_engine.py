"""Scores, thresholds and decisions of the matcher as a plain library."""

from __future__ import annotations

import polars as pl
import pytest

from ledgerlink.db import ConfigurationError
from ledgerlink.matching import engine
from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.records import prepare

ACME_SF = {"id": "A", "name": "ACME Robotics, Inc.", "address": "100 Main Street, Suite 200", "city": "Springfield",
           "postal_code": "12345", "phone": "(415) 555-0100", "website": "https://www.acme-robotics.com"}
ACME_QB = {"id": "Q", "name": "Acme Robotics Incorporated", "address": "100 Main St", "city": "Springfield",
           "postal_code": "12345-6789", "phone": "+1 415 555 0100", "email": "ap@acme-robotics.com"}
# Same name and street, another phone and no other evidence: a near miss.
ACME_NEAR = {"id": "N", "name": "Acme Robotics", "address": "100 Main St", "city": "Springfield", "phone": "415 555 0199"}


def _score(left: dict, right: dict) -> dict:
    result = engine.link(prepare([left]), prepare([right]), MatchConfig(prune_below_review=False))
    return result.scored.row(0, named=True)


def test_contributions_explain_the_whole_score():
    pair = _score(ACME_SF, ACME_QB)
    contributions = [pair[f"contrib_{f}"] for f in ("name", "street", "city", "postal", "phone", "domain")]
    assert sum(contributions) == pytest.approx(pair["score"], abs=2e-3)
    assert pair["sim_name"] == 1.0 and pair["sim_phone"] == 1.0 and pair["sim_domain"] == 1.0
    assert pair["score"] > 0.95


def test_missing_fields_do_not_count_against_a_pair_but_a_name_alone_is_not_enough():
    only_names = _score({"id": "A", "name": "Acme Robotics"}, {"id": "Q", "name": "Acme Robotics"})
    assert only_names["sim_phone"] is None and only_names["contrib_phone"] == 0
    # A perfect name with nothing to back it up lands below the default auto-link threshold.
    assert only_names["score"] < MatchConfig().auto_link_threshold


def test_different_companies_in_the_same_building_score_low():
    other = dict(ACME_QB, id="O", name="Hansen Foods LLC", phone="415 555 0777", email="ap@hansenfoods.com")
    assert _score(ACME_SF, other)["score"] < MatchConfig().review_threshold


def _decision_at(threshold_auto: float, threshold_review: float, right: dict) -> str:
    config = MatchConfig(auto_link_threshold=threshold_auto, review_threshold=threshold_review)
    result = engine.link(prepare([ACME_SF]), prepare([right]), config)
    if result.links.height:
        return "auto_link"
    if result.review.height:
        return "review"
    return "different"


def test_thresholds_decide_auto_link_review_or_different():
    score = _score(ACME_SF, ACME_NEAR)["score"]
    assert 0.5 < score < 0.95
    assert _decision_at(score, score, ACME_NEAR) == "auto_link"  # at the threshold counts as above
    assert _decision_at(min(1.0, score + 0.001), score, ACME_NEAR) == "review"
    assert _decision_at(min(1.0, score + 0.002), min(1.0, score + 0.001), ACME_NEAR) == "different"
    assert MatchConfig(auto_link_threshold=0.9, review_threshold=0.7).decide(0.8) == "review"


@pytest.mark.parametrize(("auto", "review"), [(0.7, 0.9), (1.5, 0.5), (0.9, 0)])
def test_bad_thresholds_fail_fast_with_the_setting_names(auto, review):
    with pytest.raises(ConfigurationError, match="threshold"):
        MatchConfig(auto_link_threshold=auto, review_threshold=review)


def test_two_candidates_too_close_to_call_go_to_review():
    twin = dict(ACME_QB, id="Q2")
    result = engine.link(prepare([ACME_SF]), prepare([ACME_QB, twin]), MatchConfig())
    assert result.links.is_empty()
    assert set(result.review["right_id"]) == {"Q", "Q2"}
    assert set(result.review["reason"]) == {"two candidates too close to call"}
    # ... unless the two are known duplicates of each other: then either is the company.
    clusters = pl.DataFrame({"record_id": ["Q", "Q2"], "cluster_id": ["Q", "Q"]})
    result = engine.link(prepare([ACME_SF]), prepare([ACME_QB, twin]), MatchConfig(), right_clusters=clusters)
    assert result.links["right_id"].to_list() in (["Q"], ["Q2"])


def test_an_inactive_customer_is_never_linked_automatically():
    inactive = dict(ACME_QB, active=False)
    result = engine.link(prepare([ACME_SF]), prepare([inactive]), MatchConfig())
    assert result.links.is_empty()
    assert result.review["reason"].to_list() == ["best candidate is inactive"]


def test_duplicate_accounts_may_share_one_customer_and_follow_a_linked_duplicate():
    dup = dict(ACME_SF, id="A2", name="Acme Robotics")
    weak = {"id": "A3", "name": "Acme Robotix", "city": "Springfield"}  # too little to link alone
    left = prepare([ACME_SF, dup, weak])
    clusters = pl.DataFrame({"record_id": ["A", "A3"], "cluster_id": ["A", "A"]})
    result = engine.link(left, prepare([ACME_QB]), MatchConfig(), left_clusters=clusters)
    links = dict(result.links.select("left_id", "right_id").iter_rows())
    assert links == {"A": "Q", "A2": "Q", "A3": "Q"}
    assert result.links.filter(pl.col("left_id") == "A3")["method"].item() == "duplicate"


def test_people_win_over_scores():
    left, right = prepare([ACME_SF, dict(ACME_NEAR, id="B")]), prepare([ACME_QB])
    decisions = [
        engine.PairDecision("A", "Q", engine.NOT_A_MATCH, "alice"),
        engine.PairDecision("B", "Q", engine.LINK, "bob"),
    ]
    result = engine.link(left, right, MatchConfig(), decisions=decisions, existing={"A": "Q"})
    assert dict(result.links.select("left_id", "method").iter_rows()) == {"B": "human"}
    assert "A" not in set(result.review["left_id"])
    assert any("overridden by a 'not a match'" in n for n in result.notes)


# Clusters -------------------------------------------------------------------------------------

def _strong(*edges: tuple[str, str]):
    return [(a, b, 0.95) for a, b in edges]


def test_clusters_do_not_chain_through_weak_paths():
    # A-B, B-C, C-D are strong; A and D are not: a chain, not a company.
    clusters, _ = engine.star_clusters(_strong(("A", "B"), ("B", "C"), ("C", "D")), MatchConfig())
    members = clusters.group_by("cluster_id").agg(pl.col("record_id"))["record_id"].to_list()
    assert not any({"A", "D"} <= set(m) for m in members)
    for cluster in clusters.partition_by("cluster_id"):
        centre = cluster.filter(pl.col("is_center"))["record_id"].item()
        for member in cluster.filter(~pl.col("is_center"))["record_id"]:
            assert frozenset((centre, member)) in {frozenset(e) for e in (("A", "B"), ("B", "C"), ("C", "D"))}


def test_cluster_size_is_capped():
    star = _strong(*[("HUB", f"R{i}") for i in range(10)])
    clusters, _ = engine.star_clusters(star, MatchConfig(max_cluster_size=4))
    assert clusters.group_by("cluster_id").len()["len"].max() == 4


def test_people_split_and_join_clusters():
    decisions = [
        engine.PairDecision("A", "C", engine.NOT_A_MATCH, "alice"),
        engine.PairDecision("X", "Y", engine.LINK, "alice"),
    ]
    clusters, conflicts = engine.star_clusters(_strong(("A", "B"), ("A", "C")), MatchConfig(), decisions)
    cluster_of = dict(clusters.select("record_id", "cluster_id").iter_rows())
    assert cluster_of["A"] == cluster_of["B"] and cluster_of.get("C") != cluster_of["A"]
    assert cluster_of["X"] == cluster_of["Y"]
    assert clusters.filter(pl.col("record_id") == "Y")["method"].item() == "human"
    assert conflicts == []


def test_within_one_system_strong_pairs_cluster_and_near_misses_go_to_review():
    records = [ACME_SF, dict(ACME_SF, id="A2", name="Acme Robotics Incorporated"), dict(ACME_NEAR, id="A3")]
    result = engine.dedupe(prepare(records), MatchConfig())
    assert set(result.clusters["record_id"]) == {"A", "A2"}
    assert set(result.review["right_id"]) | set(result.review["left_id"]) >= {"A3"}


def test_pruning_skips_only_pairs_that_cannot_reach_review():
    from tests.matching.synthetic import generate_pairs

    data = generate_pairs(400, seed=5)
    left, right = prepare(data.left), prepare(data.right)
    full, _ = engine.score_across(left, right, MatchConfig(prune_below_review=False))
    pruned, _ = engine.score_across(left, right, MatchConfig())
    assert pruned.height < full.height
    worth = full.filter(pl.col("score") >= MatchConfig().review_threshold).sort("left_id", "right_id")
    kept = pruned.join(worth.select("left_id", "right_id"), on=["left_id", "right_id"], how="semi").sort("left_id", "right_id")
    assert kept.height == worth.height
    assert kept["score"].to_list() == worth["score"].to_list()
