"""The matcher on any CSV files: one file = duplicates inside it, two files = links between them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl

from ledgerlink.matching import engine
from ledgerlink.matching.config import MatchConfig
from ledgerlink.matching.records import prepare

# Option name -> canonical column.
COLUMN_OPTIONS = {
    "id": "id", "name": "name", "address": "address", "city": "city", "postal_code": "postal_code",
    "phone": "phone", "email": "email", "website": "website",
}


class CsvMatchError(ValueError):
    """A problem with the files or options; the message says which and how to fix it."""


def read_records(path: Path, columns: dict[str, str]) -> pl.DataFrame:
    """`path` as canonical records; `columns` maps canonical name -> the file's column."""
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except FileNotFoundError:
        raise CsvMatchError(f"{path}: no such file") from None
    except pl.exceptions.PolarsError as exc:
        raise CsvMatchError(f"{path}: cannot read it as CSV ({exc})") from None
    frame = frame.rename({c: c.lstrip("\ufeff") for c in frame.columns})
    missing = [f"--{opt.replace('_', '-')} {col!r}" for opt, col in columns.items() if col not in frame.columns]
    if missing:
        raise CsvMatchError(
            f"{path}: no column named {', '.join(missing)}. Available columns: {', '.join(frame.columns)}"
        )
    records = frame.select([pl.col(col).alias(canonical) for canonical, col in columns.items()])
    blank = records.with_row_index("line", offset=2).filter(
        pl.col("id").is_null() | (pl.col("id").str.strip_chars() == "")
    )
    if blank.height:
        lines = ", ".join(str(n) for n in blank["line"].head(5))
        raise CsvMatchError(f"{path}: line {lines}: column {columns['id']!r} (the id) is empty")
    dupes = records.group_by("id").len().filter(pl.col("len") > 1)
    if dupes.height:
        shown = ", ".join(repr(v) for v in dupes["id"].head(5))
        raise CsvMatchError(f"{path}: column {columns['id']!r} (the id) is not unique: {shown} appear more than once")
    return records


def _clusters(edges: list[tuple[str, str]]) -> dict[str, str]:
    """Connected components of link and duplicate edges, named C1, C2, ... in a stable order."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for node in parent:
        groups.setdefault(find(node), []).append(node)
    names = {}
    for n, root in enumerate(sorted(groups, key=lambda r: min(groups[r])), start=1):
        for node in groups[root]:
            names[node] = f"C{n}"
    return names


def _explain_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("sim_")] + [c for c in frame.columns if c.startswith("contrib_")]


def dedupe_pairs(records: pl.DataFrame, config: MatchConfig, all_pairs: bool = False) -> pl.DataFrame:
    result = engine.dedupe(prepare(records), config)
    cluster_of = result.clusters.select("record_id", "cluster_id")
    names = _clusters([(r, c) for r, c in cluster_of.iter_rows()])
    review = result.review.select("left_id", "right_id", in_review=pl.lit(True))
    pairs = (
        result.scored.join(review, on=["left_id", "right_id"], how="left")
        .with_columns(
            lc=pl.col("left_id").replace_strict(names, default=None, return_dtype=pl.String),
            rc=pl.col("right_id").replace_strict(names, default=None, return_dtype=pl.String),
        )
        .with_columns(
            decision=pl.when(pl.col("lc").is_not_null() & (pl.col("lc") == pl.col("rc"))).then(pl.lit("auto_link"))
            .when(pl.col("in_review").fill_null(False)).then(pl.lit("review"))
            .otherwise(pl.lit("different")),
        )
        .with_columns(cluster_id=pl.when(pl.col("decision") == "auto_link").then(pl.col("lc")))
    )
    if not all_pairs:
        pairs = pairs.filter(pl.col("decision") != "different")
    return _finish(pairs, records, records)


def link_pairs(left: pl.DataFrame, right: pl.DataFrame, config: MatchConfig, all_pairs: bool = False) -> pl.DataFrame:
    lp, rp = prepare(left), prepare(right)
    ldup, rdup = engine.dedupe(lp, config), engine.dedupe(rp, config)
    result = engine.link(lp, rp, config, left_clusters=ldup.clusters, right_clusters=rdup.clusters)
    # Ids of the two files may overlap: tag them so a component never merges by accident.
    edges = [(f"L:{a}", f"R:{b}") for a, b in result.links.select("left_id", "right_id").iter_rows()]
    edges += [(f"L:{r}", f"L:{c}") for r, c in ldup.clusters.select("record_id", "cluster_id").iter_rows()]
    edges += [(f"R:{r}", f"R:{c}") for r, c in rdup.clusters.select("record_id", "cluster_id").iter_rows()]
    names = _clusters(edges)
    links = result.links.select("left_id", "right_id", "method", linked=pl.lit(True))
    review = result.review.select("left_id", "right_id", "reason", in_review=pl.lit(True))
    pairs = (
        result.scored.join(links, on=["left_id", "right_id"], how="left")
        .join(review, on=["left_id", "right_id"], how="left")
        .with_columns(
            decision=pl.when(pl.col("linked").fill_null(False)).then(pl.lit("auto_link"))
            .when(pl.col("in_review").fill_null(False)).then(pl.lit("review"))
            .otherwise(pl.lit("different")),
        )
        .with_columns(
            cluster_id=pl.when(pl.col("decision") == "auto_link")
            .then(("L:" + pl.col("left_id")).replace_strict(names, default=None, return_dtype=pl.String))
        )
    )
    if not all_pairs:
        pairs = pairs.filter(pl.col("decision") != "different")
    return _finish(pairs, left, right)


def _finish(pairs: pl.DataFrame, left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    pairs = (
        pairs.join(left.select(left_id="id", left_name="name"), on="left_id", how="left")
        .join(right.select(right_id="id", right_name="name"), on="right_id", how="left")
    )
    extra = [c for c in ("method", "reason") if c in pairs.columns]
    return pairs.select(
        "left_id", "right_id", pl.col("score").round(4), "decision", "cluster_id", *extra, "left_name", "right_name",
        *[pl.col(c).round(4) for c in _explain_columns(pairs)],
    ).sort(["score", "left_id", "right_id"], descending=[True, False, False])


# Scoring field fed by each optional column.
_FIELD_OF = {"address": "street", "city": "city", "postal_code": "postal", "phone": "phone", "email": "domain",
             "website": "domain"}


def match_files(
    left_path: Path, right_path: Path | None, columns: dict[str, str], config: MatchConfig, all_pairs: bool = False
) -> pl.DataFrame:
    if all_pairs:
        config = dataclasses.replace(config, prune_below_review=False)
    left = read_records(left_path, columns)
    if right_path is None:
        pairs = dedupe_pairs(left, config, all_pairs)
    else:
        pairs = link_pairs(left, read_records(right_path, columns), config, all_pairs)
    # Explain with the fields the files have; a column never given would only add empty columns.
    given = {"name"} | {_FIELD_OF[c] for c in columns if c in _FIELD_OF}
    unused = [c for c in pairs.columns if c.startswith(("sim_", "contrib_")) and c.split("_", 1)[1] not in given]
    return pairs.drop(unused)
