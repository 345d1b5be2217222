"""The matching assets materialise against a real database and report what they decided."""

from __future__ import annotations

import dagster as dg

from assets.matching import (
    CUSTOMER_DUPLICATES,
    CUSTOMER_MATCHES,
    MATCH_REVIEW_QUEUE,
    matching_assets,
    matching_checks,
)
from pipelines.resources import PostgresResource, SettingsResource


def test_assets_materialise_with_counts_and_preview(staged, db_url):
    result = dg.materialize(
        [*matching_assets],
        partition_key="2026-11-21",
        resources={"warehouse": PostgresResource(database_url=db_url), "settings": SettingsResource()},
    )
    assert result.success
    by_key = {
        e.asset_key: e.event_specific_data.materialization.metadata for e in result.get_asset_materialization_events()
    }
    matches = by_key[CUSTOMER_MATCHES]
    assert matches["links_existing_xref"].value == 1
    assert matches["links_auto"].value + matches["links_duplicate"].value == 2
    assert matches["accounts_pending_review"].value == 1 and matches["accounts_new"].value == 1
    assert matches["dagster/row_count"].value == 3
    # The least certain auto-link is shown with the fields that carried it.
    assert "001" in matches["least_certain_auto_links"].value and "name" in matches["least_certain_auto_links"].value
    assert by_key[CUSTOMER_DUPLICATES]["salesforce_clusters"].value == 1
    assert by_key[MATCH_REVIEW_QUEUE]["pending_account_customer"].value == 1


def test_dangling_link_check_warns(staged, db_url):
    staged.execute(
        "insert into sync.customer_xref (sf_account_id, qb_customer_id, method) values ('001Z', '999', 'manual')"
    )
    result = dg.materialize(
        [*matching_assets, *matching_checks],
        partition_key="2026-11-21",
        resources={"warehouse": PostgresResource(database_url=db_url), "settings": SettingsResource()},
    )
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == 1
    assert not evaluations[0].passed and evaluations[0].metadata["dangling_links"].value == 1


def test_code_location_includes_matching():
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assert {CUSTOMER_MATCHES, CUSTOMER_DUPLICATES, MATCH_REVIEW_QUEUE} <= set(graph.get_all_asset_keys())
