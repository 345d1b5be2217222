"""One matching run over the staging tables: read, match, write, summarise. No Dagster here."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

import polars as pl

from ledgerlink.matching import engine, store
from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.records import prepare


@dataclass
class MatchSummary:
    run_id: str
    counts: dict[str, int]
    duplicates: dict[str, dict[str, int]]
    blocking: dict[str, dict]
    least_certain: pl.DataFrame  # the auto-links closest to the threshold
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def least_certain_markdown(self, limit: int = 10) -> str:
        if self.least_certain.is_empty():
            return "_no auto-links this run_"
        lines = ["| score | Salesforce account | QBO customer | strongest fields |", "|---:|---|---|---|"]
        for row in self.least_certain.head(limit).iter_rows(named=True):
            lines.append(
                f"| {row['score']:.3f} | {_cell(row['sf_name'])} (`{row['left_id']}`) | "
                f"{_cell(row['qb_name'])} (`{row['right_id']}`) | {_cell(row['why'])} |"
            )
        return "\n".join(lines)


def _cell(value) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def _why(frame: pl.DataFrame) -> pl.Expr:
    """`name 0.41, phone 0.12, ...`: the fields that carried the score, biggest first."""
    parts = [
        pl.when(pl.col(c).is_not_null() & (pl.col(c) > 0)).then(pl.lit(c.removeprefix("contrib_") + " ") + pl.col(c).round(2).cast(pl.String))
        for c in frame.columns
        if c.startswith("contrib_")
    ]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True)


def least_certain_auto_links(result: engine.LinkResult, sf: pl.DataFrame, qb: pl.DataFrame, limit: int = 20) -> pl.DataFrame:
    auto = result.links.filter(pl.col("method") == engine.METHOD_AUTO).sort("score").head(limit)
    return (
        auto.with_columns(why=_why(auto))
        .join(sf.select(left_id="id", sf_name="name"), on="left_id", how="left")
        .join(qb.select(right_id="id", qb_name="name"), on="right_id", how="left")
        .select("left_id", "sf_name", "right_id", "qb_name", "score", "why")
        .sort("score")
    )


def match_records(inputs: store.MatchInputs, config: MatchConfig) -> tuple[engine.LinkResult, dict[str, engine.DedupeResult]]:
    """The pure part: duplicates in each system, then links, from in-memory inputs."""
    sf, qb = prepare(inputs.sf), prepare(inputs.qb)
    dedupes = {
        "salesforce": engine.dedupe(sf, config, inputs.duplicate_decisions.get("salesforce", [])),
        "qbo": engine.dedupe(qb, config, inputs.duplicate_decisions.get("qbo", [])),
    }
    linked = engine.link(
        sf, qb, config,
        decisions=inputs.decisions,
        existing=inputs.existing,
        pinned=inputs.pinned,
        left_clusters=dedupes["salesforce"].clusters,
        right_clusters=dedupes["qbo"].clusters,
    )
    return linked, dedupes


def run_customer_matching(conn, config: MatchConfig, run_id: str) -> MatchSummary:
    """Match the staged accounts and customers and replace the stored results, in one transaction."""
    started = time.perf_counter()
    with conn.transaction():
        # One matching run at a time: two would overwrite each other's xref and queues.
        conn.execute("select pg_advisory_xact_lock(hashtext('ledgerlink.matching'))")
        conn.execute(
            "insert into sync.match_run (run_id, settings) values (%s, %s) "
            "on conflict (run_id) do update set started_at = now(), finished_at = null",
            (run_id, json.dumps({"auto_link_threshold": config.auto_link_threshold,
                                 "review_threshold": config.review_threshold,
                                 "weights": config.scoring.weights})),
        )
        inputs = store.load_inputs(conn)
        linked, dedupes = match_records(inputs, config)
        store.write_results(conn, run_id, inputs, linked, dedupes)
        counts = linked.counts()
        duplicates = {
            system: {
                "clusters": int(d.clusters["cluster_id"].n_unique()) if d.clusters.height else 0,
                "records_in_clusters": d.clusters.height,
                "review_pairs": d.review.height,
            }
            for system, d in dedupes.items()
        }
        blocking = {"link": asdict(linked.stats)} | {f"dedupe_{s}": asdict(d.stats) for s, d in dedupes.items()}
        conn.execute(
            "update sync.match_run set finished_at = now(), counts = %s where run_id = %s",
            (json.dumps({"links": counts, "duplicates": duplicates}), run_id),
        )
    notes = linked.notes + [c for d in dedupes.values() for c in d.conflicts]
    return MatchSummary(
        run_id=run_id,
        counts=counts | {"sf_accounts": inputs.sf.height, "qb_customers": inputs.qb.height},
        duplicates=duplicates,
        blocking=blocking,
        least_certain=least_certain_auto_links(linked, inputs.sf, inputs.qb),
        notes=notes,
        seconds=time.perf_counter() - started,
    )
