"""From records to decisions: duplicate clusters inside one system and links across two.

Order of authority for a link, strongest first:
  1. a person's decision (`link` / `not_a_match`), which always wins over anything computed;
  2. a link made outside the matcher that must be kept (a customer the loads created for the
     account, a link entered by hand), then an existing cross-reference already recorded in
     the source system;
  3. the score: auto-link above `auto_link_threshold` when the best candidate is clearly best,
     review between the thresholds (or when two candidates are too close to call), else different;
  4. a duplicate of a linked record inherits that record's link (an account that is a
     duplicate of a linked account must not cause a second customer to be created).

Clusters inside one system are stars: every member is strongly linked (score >= auto-link) to
the cluster's centre, never only through a chain of other members, and clusters are capped in
size. Strong pairs the star rule leaves apart go to review instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from ledgerlink.matching.blocking import BlockingStats, candidate_pairs
from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.scoring import score_pairs

LINK = "link"
NOT_A_MATCH = "not_a_match"

# Link methods, strongest first (the order used when a duplicate inherits a link).
METHOD_HUMAN = "human"
METHOD_MANUAL = "manual"  # linked by hand outside the review flow
METHOD_CREATED = "created"  # the loads created the customer for this account
METHOD_EXISTING = "existing_xref"
METHOD_AUTO = "auto"
METHOD_DUPLICATE = "duplicate"
METHOD_RANK = {METHOD_HUMAN: 0, METHOD_MANUAL: 1, METHOD_CREATED: 1, METHOD_EXISTING: 2, METHOD_AUTO: 3, METHOD_DUPLICATE: 4}

AUTO_DECIDER = "ledgerlink"


@dataclass(frozen=True)
class PairDecision:
    """A person's verdict on a pair: `link` or `not_a_match`."""

    left_id: str
    right_id: str
    decision: str
    decided_by: str = "unknown"
    decided_at: datetime | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.decision not in (LINK, NOT_A_MATCH):
            raise ValueError(f"decision must be '{LINK}' or '{NOT_A_MATCH}', not {self.decision!r}")

    @property
    def key(self) -> frozenset[str]:
        return frozenset((self.left_id, self.right_id))


def _latest(decisions: Iterable[PairDecision]) -> list[PairDecision]:
    """One decision per pair: the most recent (undated ones count as oldest, in input order)."""
    by_pair: dict[tuple[str, str], PairDecision] = {}
    for d in sorted(decisions, key=_when):  # stable: equal times keep input order
        by_pair[(d.left_id, d.right_id)] = d
    return list(by_pair.values())


_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


def _to_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(d: PairDecision) -> datetime:
    return _to_utc(d.decided_at) or _EARLIEST


# Scoring -------------------------------------------------------------------------------------

def _with_ids(scored: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    return scored.with_columns(
        left_id=left["id"].gather(scored["li"]), right_id=right["id"].gather(scored["ri"])
    ).select("left_id", "right_id", pl.exclude("left_id", "right_id", "li", "ri"))


def score_within(frame: pl.DataFrame, config: MatchConfig) -> tuple[pl.DataFrame, BlockingStats]:
    """Scored pairs inside one prepared frame; `left_id < right_id`-oriented rows."""
    pairs, stats = candidate_pairs(frame, None, config.max_block_pairs)
    scored = _with_ids(score_pairs(frame, frame, pairs, config.scoring, config.prune_below), frame, frame)
    # Orient each pair by id so a pair has one spelling everywhere (decisions, review, clusters).
    swap = pl.col("left_id") > pl.col("right_id")
    scored = scored.with_columns(
        left_id=pl.when(swap).then(pl.col("right_id")).otherwise(pl.col("left_id")),
        right_id=pl.when(swap).then(pl.col("left_id")).otherwise(pl.col("right_id")),
    )
    return scored, stats


def score_across(left: pl.DataFrame, right: pl.DataFrame, config: MatchConfig) -> tuple[pl.DataFrame, BlockingStats]:
    pairs, stats = candidate_pairs(left, right, config.max_block_pairs)
    return _with_ids(score_pairs(left, right, pairs, config.scoring, config.prune_below), left, right), stats


def band(config: MatchConfig) -> pl.Expr:
    """The threshold band of `score`: auto_link / review / different."""
    return (
        pl.when(pl.col("score") >= config.auto_link_threshold).then(pl.lit("auto_link"))
        .when(pl.col("score") >= config.review_threshold).then(pl.lit("review"))
        .otherwise(pl.lit("different"))
    )


# Duplicate clusters inside one system --------------------------------------------------------

@dataclass
class DedupeResult:
    scored: pl.DataFrame
    clusters: pl.DataFrame  # cluster_id, record_id, center_id, is_center, score, method
    review: pl.DataFrame  # left_id, right_id, score, reason, sim_*/contrib_*
    stats: BlockingStats | None = None
    conflicts: list[str] = field(default_factory=list)

    def cluster_of(self) -> dict[str, str]:
        return dict(zip(self.clusters["record_id"].to_list(), self.clusters["cluster_id"].to_list(), strict=True))


_CLUSTER_SCHEMA = {
    "cluster_id": pl.String, "record_id": pl.String, "center_id": pl.String,
    "is_center": pl.Boolean, "score": pl.Float32, "method": pl.String,
}


def star_clusters(
    strong: Iterable[tuple[str, str, float]],
    config: MatchConfig,
    decisions: Iterable[PairDecision] = (),
) -> tuple[pl.DataFrame, list[str]]:
    """Clusters from strong pairs and human decisions; returns (clusters, conflicts).

    A record becomes a centre when it has the most strong links among the records still free;
    its free strong neighbours join it (best first, up to `max_cluster_size`) unless a person
    said one of them is not the same as a member already in. Human `link` decisions then merge
    the two records' clusters.
    """
    decisions = _latest(decisions)
    cannot = {d.key for d in decisions if d.decision == NOT_A_MATCH}
    adjacency: dict[str, dict[str, float]] = defaultdict(dict)
    for a, b, score in strong:
        if a != b and frozenset((a, b)) not in cannot:
            adjacency[a][b] = adjacency[b][a] = float(score)
    order = sorted(adjacency, key=lambda n: (-len(adjacency[n]), -sum(adjacency[n].values()), n))
    centre_of: dict[str, str] = {}
    members_of: dict[str, list[str]] = {}
    for centre in order:
        if centre in centre_of:
            continue
        members = [centre]
        for neighbour, _ in sorted(adjacency[centre].items(), key=lambda kv: (-kv[1], kv[0])):
            if len(members) >= config.max_cluster_size:
                break
            if neighbour in centre_of or any(frozenset((neighbour, m)) in cannot for m in members):
                continue
            members.append(neighbour)
        if len(members) > 1:
            members_of[centre] = members
            for m in members:
                centre_of[m] = centre
    method = {}
    conflicts = []
    for d in decisions:
        if d.decision != LINK or d.left_id == d.right_id:
            continue
        a, b = d.left_id, d.right_id
        ca, cb = centre_of.get(a), centre_of.get(b)
        if ca is not None and ca == cb:
            continue
        group_a = members_of.get(ca, [a]) if ca else [a]
        group_b = members_of.get(cb, [b]) if cb else [b]
        clash = [(x, y) for x in group_a for y in group_b if frozenset((x, y)) in cannot]
        if clash:
            conflicts.append(
                f"decision 'link' {a} <-> {b} not applied: {clash[0][0]} and {clash[0][1]} are marked not a match"
            )
            continue
        centre = ca or cb or a
        merged = group_a + [m for m in group_b if m not in group_a]
        for old in (ca, cb):
            members_of.pop(old, None)
        members_of[centre] = merged
        for m in merged:
            centre_of[m] = centre
        method[a] = method[b] = METHOD_HUMAN
    rows = []
    for centre, members in members_of.items():
        for m in members:
            rows.append(
                {
                    "cluster_id": centre,
                    "record_id": m,
                    "center_id": centre,
                    "is_center": m == centre,
                    "score": None if m == centre else adjacency[centre].get(m),
                    "method": method.get(m, METHOD_AUTO),
                }
            )
    return pl.DataFrame(rows, schema=_CLUSTER_SCHEMA), conflicts


def dedupe(frame: pl.DataFrame, config: MatchConfig, decisions: Iterable[PairDecision] = ()) -> DedupeResult:
    """Duplicate clusters inside one prepared frame, and the pairs a person should look at."""
    decisions = [d for d in _latest(decisions) if d.left_id != d.right_id]
    scored, stats = score_within(frame, config)
    strong = scored.filter(pl.col("score") >= config.auto_link_threshold)
    clusters, conflicts = star_clusters(
        strong.select("left_id", "right_id", "score").iter_rows(), config, decisions
    )
    cluster_map = clusters.select("record_id", "cluster_id")
    decided = pl.DataFrame(
        [(min(d.left_id, d.right_id), max(d.left_id, d.right_id)) for d in decisions],
        schema={"left_id": pl.String, "right_id": pl.String},
        orient="row",
    )
    review = (
        scored.filter(pl.col("score") >= config.review_threshold)
        .join(decided, on=["left_id", "right_id"], how="anti")
        .join(cluster_map.rename({"record_id": "left_id", "cluster_id": "lc"}), on="left_id", how="left")
        .join(cluster_map.rename({"record_id": "right_id", "cluster_id": "rc"}), on="right_id", how="left")
        .filter(pl.col("lc").is_null() | pl.col("rc").is_null() | (pl.col("lc") != pl.col("rc")))
        .with_columns(
            reason=pl.when(pl.col("score") >= config.auto_link_threshold)
            .then(pl.lit("strong but not linked to the cluster centre"))
            .otherwise(pl.lit("score in review band"))
        )
        .drop("lc", "rc")
        .sort("score", descending=True)
    )
    return DedupeResult(scored=scored, clusters=clusters, review=review, stats=stats, conflicts=conflicts)


# Links across two systems --------------------------------------------------------------------

_LINK_SCHEMA = {
    "left_id": pl.String, "right_id": pl.String, "method": pl.String, "score": pl.Float32,
    "decided_by": pl.String, "decided_at": pl.Datetime(time_zone="UTC"), "note": pl.String,
}


@dataclass
class LinkResult:
    scored: pl.DataFrame  # every compared pair: left_id, right_id, score, sim_*, contrib_*
    links: pl.DataFrame  # one row per linked left record (see _LINK_SCHEMA) plus sim_*/contrib_*
    review: pl.DataFrame  # left_id, right_id, score, rank, reason, sim_*/contrib_*
    status: pl.DataFrame  # left_id, status (linked|pending_review|new), right_id, method, best_score, cluster_id
    stats: BlockingStats | None = None
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        per_method = dict(self.links.group_by("method").len().iter_rows())
        out = {m: int(per_method.get(m, 0)) for m in METHOD_RANK}
        out["review_pairs"] = self.review.height
        out["accounts_pending_review"] = int((self.status["status"] == "pending_review").sum())
        out["accounts_new"] = int((self.status["status"] == "new").sum())
        return out


def _mates_in_review(
    review: pl.DataFrame, scored: pl.DataFrame, links: dict, cluster_of: dict[str, str], left_ids: set[str]
) -> pl.DataFrame:
    """Review rows for the unlinked duplicates of an account in review: they wait with it, so
    nothing creates a customer for a company a person is still deciding about."""
    members: dict[str, list[str]] = defaultdict(list)
    for record, cluster in cluster_of.items():
        members[cluster].append(record)
    in_review = set(review["left_id"].to_list())
    mates = [
        (mate, source)
        for source in in_review
        if source in cluster_of
        for mate in members[cluster_of[source]]
        if mate not in links and mate not in in_review and mate in left_ids
    ]
    if not mates:
        return review.clear()
    pairs = pl.DataFrame(mates, schema={"mate": pl.String, "source": pl.String}, orient="row")
    rows = (
        pairs.join(review.select("left_id", "right_id", "rank"), left_on="source", right_on="left_id")
        .select(left_id="mate", right_id="right_id", rank="rank", reason=pl.lit("duplicate of ") + pl.col("source") + " (in review)")
    )
    return rows.join(scored, on=["left_id", "right_id"], how="left").select(review.columns)


def link(
    left: pl.DataFrame,
    right: pl.DataFrame,
    config: MatchConfig,
    decisions: Iterable[PairDecision] = (),
    existing: dict[str, str] | None = None,
    left_clusters: pl.DataFrame | None = None,
    right_clusters: pl.DataFrame | None = None,
    pinned: dict[str, tuple[str, str]] | None = None,
) -> LinkResult:
    """Link each left record to at most one right record (several left records may share one).

    `existing`: left id -> right id already recorded in the source system. `pinned`: left id
    -> (right id, method) for links made outside the matcher that stand unless a person says
    otherwise (`created`, `manual`). `left_clusters` / `right_clusters`: duplicate clusters
    (`record_id`, `cluster_id`) from `dedupe`.
    """
    notes: list[str] = []
    left_ids = set(left["id"].to_list())
    right_ids = set(right["id"].to_list())
    decisions = _latest(decisions)
    scored, stats = score_across(left, right, config)
    rejected = pl.DataFrame(
        [(d.left_id, d.right_id) for d in decisions if d.decision == NOT_A_MATCH],
        schema={"left_id": pl.String, "right_id": pl.String},
        orient="row",
    )
    rejected_keys = {(d.left_id, d.right_id) for d in decisions if d.decision == NOT_A_MATCH}
    eligible = scored.join(rejected, on=["left_id", "right_id"], how="anti")

    links: dict[str, dict] = {}

    # 1. People.
    for d in sorted((d for d in decisions if d.decision == LINK), key=_when):
        if d.left_id not in left_ids or d.right_id not in right_ids:
            notes.append(f"human link {d.left_id} -> {d.right_id} skipped: record no longer present")
            continue
        # Later decisions for the same left record replace earlier ones (iteration is by time).
        links[d.left_id] = {"right_id": d.right_id, "method": METHOD_HUMAN, "decided_by": d.decided_by,
                            "decided_at": _to_utc(d.decided_at), "note": d.note}

    # 2. Links made outside the matcher, then cross-references the source system already holds.
    given = [(lid, rid, method) for lid, (rid, method) in (pinned or {}).items()]
    given += [(lid, rid, METHOD_EXISTING) for lid, rid in (existing or {}).items()]
    for lid, rid, method in given:
        if lid in links or lid not in left_ids or not rid:
            continue
        if rid not in right_ids:
            notes.append(f"{method} link {lid} -> {rid} ignored: no such active record")
            continue
        if (lid, rid) in rejected_keys:
            notes.append(f"{method} link {lid} -> {rid} overridden by a 'not a match' decision")
            continue
        links[lid] = {"right_id": rid, "method": method, "decided_by": "source" if method == METHOD_EXISTING else None,
                      "decided_at": None, "note": None}

    # 3. Scores. Duplicates on the right are one candidate: the best-scoring member stands for the group.
    group = pl.col("right_id")
    if right_clusters is not None and right_clusters.height:
        eligible = eligible.join(
            right_clusters.select(right_id="record_id", rgroup="cluster_id"), on="right_id", how="left"
        )
        group = pl.coalesce("rgroup", "right_id")
    candidates = (
        eligible.filter(pl.col("score") >= config.review_threshold)
        .filter(~pl.col("left_id").is_in(list(links)))
        .with_columns(rgroup=group)
        .sort(["left_id", "score", "right_id"], descending=[False, True, False])
    )
    per_group = candidates.group_by("left_id", "rgroup", maintain_order=True).first()
    ranked = per_group.with_columns(rank=pl.int_range(1, pl.len() + 1).over("left_id"))
    best = ranked.filter(pl.col("rank") == 1)
    second = ranked.filter(pl.col("rank") == 2).select("left_id", second_score="score")
    best = best.join(second, on="left_id", how="left")
    clear = pl.col("second_score").is_null() | (pl.col("score") - pl.col("second_score") >= config.ambiguity_margin)
    # An inactive QBO customer is QBO's "deleted": a person decides whether to revive it.
    inactive = right.filter(~pl.col("active").fill_null(True))["id"].to_list() if "active" in right.columns else []
    to_inactive = pl.col("right_id").is_in(inactive)
    auto = best.filter((pl.col("score") >= config.auto_link_threshold) & clear & ~to_inactive)
    for lid, rid, score in auto.select("left_id", "right_id", "score").iter_rows():
        links[lid] = {"right_id": rid, "method": METHOD_AUTO, "decided_by": AUTO_DECIDER,
                      "decided_at": None, "note": None, "score": score}
    strong = best.filter(pl.col("score") >= config.auto_link_threshold)
    ambiguous = set(strong.filter(~clear)["left_id"].to_list())
    inactive_best = set(strong.filter(clear & to_inactive)["left_id"].to_list())

    # 4. A duplicate of a linked record follows it.
    cluster_of: dict[str, str] = {}
    if left_clusters is not None and left_clusters.height:
        cluster_of = dict(zip(left_clusters["record_id"].to_list(), left_clusters["cluster_id"].to_list(), strict=True))
        members: dict[str, list[str]] = defaultdict(list)
        for rid_, cid in cluster_of.items():
            members[cid].append(rid_)
        for cid, ids in members.items():
            linked = [(METHOD_RANK[links[m]["method"]], m != cid, -(links[m].get("score") or 0), m) for m in ids if m in links]
            if not linked:
                continue
            source = min(linked)[3]
            target = links[source]["right_id"]
            for m in ids:
                if m in links or m not in left_ids or (m, target) in rejected_keys:
                    continue
                links[m] = {"right_id": target, "method": METHOD_DUPLICATE, "decided_by": AUTO_DECIDER,
                            "decided_at": None, "note": f"duplicate of {source}"}

    link_columns = {"left_id": list(links)} | {
        c: [row[c] for row in links.values()] for c in _LINK_SCHEMA if c not in ("left_id", "score")
    }
    links_df = pl.DataFrame(link_columns, schema={k: v for k, v in _LINK_SCHEMA.items() if k != "score"})
    links_df = links_df.join(scored, on=["left_id", "right_id"], how="left").select(
        *[c for c in _LINK_SCHEMA], pl.exclude(*_LINK_SCHEMA)
    )

    # 5. Review: unlinked records with candidates in the review band, or too close to call.
    review = (
        ranked.filter(~pl.col("left_id").is_in(list(links)) & (pl.col("rank") <= config.review_candidates))
        .with_columns(
            reason=pl.when(pl.col("left_id").is_in(list(ambiguous)))
            .then(pl.lit("two candidates too close to call"))
            .when(pl.col("left_id").is_in(list(inactive_best)))
            .then(pl.lit("best candidate is inactive"))
            .otherwise(pl.lit("score in review band"))
        )
        .drop("rgroup")
        .sort(["score", "left_id"], descending=[True, False])
    )
    review = review.select("left_id", "right_id", "score", "rank", "reason", pl.exclude("left_id", "right_id", "score", "rank", "reason"))
    review = pl.concat([review, _mates_in_review(review, scored, links, cluster_of, left_ids)], how="diagonal_relaxed")

    # 6. Status per left record; a cluster with a pending review and no link is pending as a whole.
    clusters = pl.DataFrame(
        {"left_id": list(cluster_of), "cluster_id": list(cluster_of.values())},
        schema={"left_id": pl.String, "cluster_id": pl.String},
    )
    pending = review.select("left_id").unique()
    pending_clusters = clusters.join(pending, on="left_id", how="semi").select("cluster_id").unique()
    status_df = (
        left.select(left_id="id")
        .join(links_df.select("left_id", "right_id", "method"), on="left_id", how="left")
        .join(scored.group_by("left_id").agg(best_score=pl.col("score").max()), on="left_id", how="left")
        .join(clusters, on="left_id", how="left")
        .with_columns(
            status=pl.when(pl.col("right_id").is_not_null()).then(pl.lit("linked"))
            .when(pl.col("left_id").is_in(pending["left_id"].implode())
                  | pl.col("cluster_id").is_in(pending_clusters["cluster_id"].implode()))
            .then(pl.lit("pending_review"))
            .otherwise(pl.lit("new"))
        )
        .select("left_id", "status", "right_id", "method", pl.col("best_score").cast(pl.Float32), "cluster_id")
    )
    return LinkResult(scored=scored, links=links_df, review=review, status=status_df, stats=stats, notes=notes)
