"""The report against the sandbox generator's ground truth: every row, category and bridge total."""

from __future__ import annotations

import os

import pytest

from tests.reports.ground_truth import differences, truth_rows


def _check(load, report_settings, profile: str, seed: int) -> None:
    from sandbox.generator import generate

    dataset = generate(profile, seed=seed)
    conn = load(dataset)
    months = truth_rows(dataset)
    assert len(months) >= 12, "the profile should span a year of closes"
    problems = differences(conn, dataset, report_settings)
    assert not problems, f"{len(problems)} differences, first: " + "\n".join(problems[:20])


@pytest.mark.parametrize("seed", [0, 7])
def test_every_month_of_small_matches_the_ground_truth(load, report_settings, seed):
    _check(load, report_settings, "small", seed)


@pytest.mark.skipif(
    not os.environ.get("LEDGERLINK_SLOW_TESTS"),
    reason="slow (about a minute): the medium profile; set LEDGERLINK_SLOW_TESTS=1 (bench/bench_reports.py runs it too)",
)
def test_every_month_of_medium_matches_the_ground_truth(load, report_settings):
    _check(load, report_settings, "medium", 0)
