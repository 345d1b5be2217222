"""Reading the matcher's inputs from Postgres and writing its results back, in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from ledgerlink.db import read_sql
from ledgerlink.matching import engine, sources
from ledgerlink.matching.scoring import FIELDS

SYSTEMS = ("salesforce", "qbo")
EXISTING_DECIDER = "salesforce:QBO_Customer_Id__c"


@dataclass
class MatchInputs:
    sf: pl.DataFrame
    qb: pl.DataFrame
    decisions: list[engine.PairDecision] = field(default_factory=list)
    duplicate_decisions: dict[str, list[engine.PairDecision]] = field(default_factory=dict)
    pinned: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def existing(self) -> dict[str, str]:
        return {a: b for a, b in self.sf.select("id", "qbo_customer_id").iter_rows() if b}


def _decisions(rows: Iterable[tuple]) -> list[engine.PairDecision]:
    return [
        engine.PairDecision(left_id=a, right_id=b, decision=d, decided_by=by, decided_at=at, note=note)
        for a, b, d, by, at, note in rows
    ]


def load_inputs(conn) -> MatchInputs:
    sf = sources.sf_accounts_from_staging(conn)
    qb = sources.qb_customers_from_staging(conn)
    decisions = _decisions(conn.execute(read_sql("matching/load_decisions.sql")).fetchall())
    dup = {system: [] for system in SYSTEMS}
    for system, *rest in conn.execute(read_sql("matching/load_duplicate_decisions.sql")).fetchall():
        dup[system].extend(_decisions([tuple(rest)]))
    pinned = {a: (b, m) for a, b, m in conn.execute(read_sql("matching/load_pinned_links.sql")).fetchall()}
    return MatchInputs(sf=sf, qb=qb, decisions=decisions, duplicate_decisions=dup, pinned=pinned)


def contributions_json(frame: pl.DataFrame) -> pl.Expr:
    """Per-field `{"name": {"similarity": .93, "contribution": .41}, ...}` as a JSON string."""
    fields = [f for f in FIELDS if f"sim_{f}" in frame.columns]
    return pl.struct(
        [
            pl.struct(
                similarity=pl.col(f"sim_{f}").round(4),
                contribution=pl.col(f"contrib_{f}").round(4),
            ).alias(f)
            for f in fields
        ]
    ).struct.json_encode()


def _copy(conn, table: str, frame: pl.DataFrame) -> None:
    """COPY a frame into a (temporary) table whose columns are named like the frame's."""
    columns = ", ".join(frame.columns)
    with conn.cursor().copy(f"copy {table} ({columns}) from stdin") as copy:
        for row in frame.iter_rows():
            copy.write_row(row)


def _script(conn, name: str, params: dict | None = None) -> None:
    """Run a `.sql` file statement by statement (bound parameters allow one statement per call)."""
    for statement in read_sql(name).split(";\n"):
        body = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--")).strip()
        if body:
            conn.execute(statement, params)


def _names(frame: pl.DataFrame, id_col: str, alias: str) -> pl.DataFrame:
    return frame.select(pl.col("id").alias(id_col), pl.col("name").alias(alias))


def write_results(
    conn,
    run_id: str,
    inputs: MatchInputs,
    link: engine.LinkResult,
    dedupes: dict[str, engine.DedupeResult],
) -> None:
    """Replace the computed state with this run's: xref, review queues, clusters, statuses.

    Links created outside the matcher (`created`, `manual`) came in as pinned links and go
    out unchanged unless a person decided otherwise. Review rows are upserted (a row keeps its
    first-seen run); pending rows this run no longer proposes become `decided` if a person
    decided the pair, else `stale`.
    """
    _script(conn, "matching/create_temp_tables.sql")

    status = link.status.select(
        sf_account_id="left_id", status="status", qb_customer_id="right_id", method="method",
        best_score=pl.col("best_score").round(4), sf_cluster_id="cluster_id",
    )
    _copy(conn, "tmp_match_status", status)
    _script(conn, "matching/write_status.sql", {"run_id": run_id})

    links = link.links.with_columns(
        contributions=contributions_json(link.links),
        decided_by=pl.when(pl.col("method") == engine.METHOD_EXISTING).then(pl.lit(EXISTING_DECIDER))
        .otherwise(pl.col("decided_by")),
    ).select(
        sf_account_id="left_id", qb_customer_id="right_id", method="method", score=pl.col("score").round(4),
        decided_by="decided_by", decided_at="decided_at", contributions="contributions", note="note",
    )
    _copy(conn, "tmp_match_xref", links)
    _script(conn, "matching/write_xref.sql", {"run_id": run_id})

    review = (
        link.review.with_columns(contributions=contributions_json(link.review))
        .join(_names(inputs.sf, "left_id", "sf_name"), on="left_id", how="left")
        .join(_names(inputs.qb, "right_id", "qb_name"), on="right_id", how="left")
        .select(
            sf_account_id="left_id", qb_customer_id="right_id", score=pl.col("score").round(4),
            rank="rank", reason="reason", contributions="contributions", sf_name="sf_name", qb_name="qb_name",
        )
    )
    _copy(conn, "tmp_match_review", review)
    _script(conn, "matching/write_review.sql", {"run_id": run_id})

    for system, result in dedupes.items():
        frame = inputs.sf if system == "salesforce" else inputs.qb
        dup_review = (
            result.review.with_columns(contributions=contributions_json(result.review), system=pl.lit(system))
            .join(_names(frame, "left_id", "left_name"), on="left_id", how="left")
            .join(_names(frame, "right_id", "right_name"), on="right_id", how="left")
            .select("system", "left_id", "right_id", pl.col("score").round(4), "reason", "contributions",
                    "left_name", "right_name")
        )
        _copy(conn, "tmp_duplicate_review", dup_review)
        clusters = cluster_rows(result).with_columns(system=pl.lit(system)).select(
            "system", "record_id", "cluster_id", "center_id", "is_center", pl.col("score").round(4), "method",
            "contributions",
        )
        _copy(conn, "tmp_duplicate_cluster", clusters)
    _script(conn, "matching/write_duplicates.sql", {"run_id": run_id, "systems": list(dedupes)})


def cluster_rows(result: engine.DedupeResult) -> pl.DataFrame:
    """Cluster members with the per-field contributions of their score against the centre."""
    members = result.clusters.with_columns(
        left_id=pl.min_horizontal("record_id", "center_id"), right_id=pl.max_horizontal("record_id", "center_id")
    )
    scored = members.filter(~pl.col("is_center")).join(result.scored, on=["left_id", "right_id"], how="inner")
    explained = scored.select("record_id", contributions=contributions_json(scored))
    return members.join(explained, on="record_id", how="left").drop("left_id", "right_id")
