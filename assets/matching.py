"""Matching assets: Salesforce accounts <-> QBO customers, duplicates in each system, the review queue.

Thin wiring around `ledgerlink.matching.run`. One computation (one database transaction)
produces all three assets, so they are one multi-asset: the links never disagree with the
clusters or the queue they were decided with.
"""

import dagster as dg

from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.run import run_customer_matching
from pipelines.partitions import daily_partitions
from pipelines.resources import PostgresResource, SettingsResource

CUSTOMER_MATCHES = dg.AssetKey("customer_matches")
CUSTOMER_DUPLICATES = dg.AssetKey("customer_duplicates")
MATCH_REVIEW_QUEUE = dg.AssetKey("match_review_queue")
STAGING_INPUTS = [dg.AssetKey(["staging", t]) for t in ("sf_account", "sf_contact", "qb_customer")]


def _md_table(header: list[str], rows: list[tuple]) -> str:
    if not rows:
        return "_none_"
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(v if v is not None else "").replace("|", "\\|")[:80] for v in row) + " |")
    return "\n".join(lines)


def _ints(values: dict) -> dict:
    return {k: dg.MetadataValue.int(int(v)) for k, v in values.items()}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            CUSTOMER_MATCHES,
            deps=STAGING_INPUTS,
            description="Salesforce account -> QBO customer links in sync.customer_xref, each with its method "
            "(human, existing_xref, created, auto, duplicate), score, per-field contributions and who decided.",
            kinds={"postgres"},
        ),
        dg.AssetSpec(
            CUSTOMER_DUPLICATES,
            deps=STAGING_INPUTS,
            description="Duplicate clusters inside Salesforce and inside QBO (sync.duplicate_cluster): every "
            "member strongly linked to its cluster's centre, sizes capped.",
            kinds={"postgres"},
        ),
        dg.AssetSpec(
            MATCH_REVIEW_QUEUE,
            deps=STAGING_INPUTS,
            description="Pairs for a person to decide (sync.match_review, sync.duplicate_review); accounts with a "
            "pending review get no new QBO customer. Work it with `ledgerlink matches export-review`.",
            kinds={"postgres"},
        ),
    ],
    group_name="matching",
    partitions_def=daily_partitions,
    can_subset=False,
)
def customer_matching(context: dg.AssetExecutionContext, warehouse: PostgresResource, settings: SettingsResource):
    config = MatchConfig.from_settings(settings.settings)
    with warehouse.connect() as conn:
        summary = run_customer_matching(conn, config, run_id=context.run.run_id)
        review_rows = conn.execute(
            "select sf_account_id, sf_name, qb_customer_id, qb_name, score, reason from sync.match_review "
            "where status = 'pending' order by score desc nulls last, sf_account_id limit 10"
        ).fetchall()
        pending = dict(conn.execute(
            "select 'account_customer', count(*) from sync.match_review where status = 'pending' "
            "union all select system || '_duplicate', count(*) from sync.duplicate_review where status = 'pending' "
            "group by system"
        ).fetchall())
        cluster_sizes = conn.execute(
            "select system, size, count(*) from (select system, cluster_id, count(*) as size "
            "from sync.duplicate_cluster group by 1, 2) c group by 1, 2 order by 1, 2"
        ).fetchall()
        xref_rows = conn.execute("select count(*) from sync.customer_xref").fetchone()[0]
    for note in summary.notes:
        context.log.warning(note)
    counts = summary.counts
    context.log.info(
        f"matched {counts['sf_accounts']} accounts against {counts['qb_customers']} customers in "
        f"{summary.seconds:.1f}s: {counts}"
    )
    blocking = {k: {"compared": v["candidate_pairs"], "cross_product": v["full_pairs"]} for k, v in summary.blocking.items()}
    yield dg.MaterializeResult(
        asset_key=CUSTOMER_MATCHES,
        metadata={
            "dagster/row_count": dg.MetadataValue.int(int(xref_rows)),
            **_ints({f"links_{k}": v for k, v in counts.items() if k in
                     ("human", "manual", "created", "existing_xref", "auto", "duplicate")}),
            **_ints({k: counts[k] for k in ("accounts_pending_review", "accounts_new", "sf_accounts", "qb_customers")}),
            "least_certain_auto_links": dg.MetadataValue.md(summary.least_certain_markdown()),
            "auto_link_threshold": dg.MetadataValue.float(config.auto_link_threshold),
            "review_threshold": dg.MetadataValue.float(config.review_threshold),
            "blocking": dg.MetadataValue.json(blocking),
            "seconds": dg.MetadataValue.float(round(summary.seconds, 2)),
            "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in summary.notes[:50]) or "_none_"),
        },
    )
    yield dg.MaterializeResult(
        asset_key=CUSTOMER_DUPLICATES,
        metadata={
            "dagster/row_count": dg.MetadataValue.int(sum(d["records_in_clusters"] for d in summary.duplicates.values())),
            **_ints({f"{s}_clusters": d["clusters"] for s, d in summary.duplicates.items()}),
            **_ints({f"{s}_records_in_clusters": d["records_in_clusters"] for s, d in summary.duplicates.items()}),
            "cluster_sizes": dg.MetadataValue.md(_md_table(["system", "size", "clusters"], cluster_sizes)),
        },
    )
    yield dg.MaterializeResult(
        asset_key=MATCH_REVIEW_QUEUE,
        metadata={
            "dagster/row_count": dg.MetadataValue.int(int(sum(pending.values()))),
            **_ints({f"pending_{k}": v for k, v in pending.items()}),
            "top_pending": dg.MetadataValue.md(
                _md_table(["account", "account name", "customer", "customer name", "score", "reason"], review_rows)
            ),
        },
    )


@dg.asset_check(
    asset=CUSTOMER_MATCHES,
    description="Every link points at a QBO customer the last extract saw (customers the loads just created "
    "are exempt until the next extract).",
)
def customer_xref_targets_exist(warehouse: PostgresResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        rows = conn.execute(
            "select x.sf_account_id, x.qb_customer_id, x.method, count(*) over () from sync.customer_xref x "
            "left join staging.qb_customer c on c.id = x.qb_customer_id and not c._deleted "
            "where c.id is null and x.method <> 'created' order by 1 limit 20"
        ).fetchall()
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "dangling_links": dg.MetadataValue.int(rows[0][3] if rows else 0),
            "examples": dg.MetadataValue.md(_md_table(["account", "customer", "method"], [r[:3] for r in rows])),
        },
    )


matching_assets = [customer_matching]
matching_checks = [customer_xref_targets_exist]

defs = dg.Definitions(assets=matching_assets, asset_checks=matching_checks)
