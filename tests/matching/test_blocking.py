"""Blocking: true pairs are still compared when one field disagrees, and big inputs are not compared in full."""

from __future__ import annotations

import pytest

from ledgerlink.matching.blocking import candidate_pairs
from ledgerlink.matching.records import prepare
from tests.matching.synthetic import generate_pairs

ACME = {"id": "L1", "name": "Acme Robotics Inc", "address": "100 Main Street", "city": "Springfield",
        "postal_code": "12345", "phone": "415 555 0100", "website": "acme-robotics.com"}

# Background records that share nothing with Acme, so only Acme's own keys can pair it.
OTHERS = [
    {"id": f"X{i}", "name": f"Zeta{i} Bakery", "address": f"{i} Oak Road", "city": "Shelbyville",
     "postal_code": f"9{i:04d}", "phone": f"212 555 {i:04d}", "website": f"zeta{i}.com"}
    for i in range(30)
]


def _compared(left: list[dict], right: list[dict]) -> set[tuple[str, str]]:
    lp, rp = prepare(left), prepare(right)
    pairs, _ = candidate_pairs(lp, rp)
    return {(lp["id"][li], rp["id"][ri]) for li, ri in pairs.iter_rows()}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Acmee Robotcs Inc"),  # typos in every name word
        ("name", "Zorg Industries"),  # a different trading name altogether
        ("postal_code", "54321"),
        ("postal_code", None),
        ("phone", "999 999 9999"),
        ("phone", None),
        ("website", "other.com"),
        ("address", "1 Other Road"),
        ("city", "Capital City"),
    ],
)
def test_a_true_pair_differing_in_one_field_is_still_compared(field, value):
    variant = dict(ACME, id="R1", **{field: value})
    assert ("L1", "R1") in _compared([ACME, *OTHERS[:15]], [variant, *OTHERS[15:]])


def test_a_pair_sharing_nothing_is_not_compared():
    stranger = {"id": "R9", "name": "Initech", "address": "4120 Freidrich Ln", "city": "Austin",
                "postal_code": "78744", "phone": "512 555 0199", "website": "initech.com"}
    assert ("L1", "R9") not in _compared([ACME], [stranger])


def test_large_inputs_compare_a_small_share_of_all_pairs_and_keep_recall():
    data = generate_pairs(2_000, seed=11)
    lp, rp = prepare(data.left), prepare(data.right)
    pairs, stats = candidate_pairs(lp, rp)
    assert stats.full_pairs == lp.height * rp.height
    assert stats.compared_share < 0.02  # far from the full cross product
    found = {(lp["id"][li], rp["id"][ri]) for li, ri in pairs.iter_rows()}
    recall = len(found & data.links) / len(data.links)
    assert recall > 0.99


def test_within_one_file_pairs_are_ordered_and_never_self():
    data = generate_pairs(300, seed=3)
    lp = prepare(data.left)
    pairs, stats = candidate_pairs(lp)
    assert stats.full_pairs == lp.height * (lp.height - 1) // 2
    assert all(li < ri for li, ri in pairs.iter_rows())
    found = {tuple(sorted((lp["id"][li], lp["id"][ri]))) for li, ri in pairs.iter_rows()}
    for cluster in data.left_clusters:
        assert tuple(sorted(cluster)) in found
