"""Blocking: which pairs are worth scoring, without ever comparing every pair.

Each record gets several keys (name tokens, pairs of name tokens, token prefixes, postal code,
phone, web/e-mail domain, street number + street name). Two records are compared when they
share at least one key, so a typo in one field (or a missing field) does not hide a match the
other keys still see. A key shared by too many records ("solutions", a big city's ZIP) says
little and would explode the pair count, so blocks bigger than `max_block_pairs` are dropped;
the more specific keys (token pairs, token + ZIP prefix) still cover those records.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# Name words too common to identify anyone; they never form a key on their own.
_GENERIC_TOKENS = {"and", "of", "the", "de", "la", "le", "du", "y", "et", "und", "&"}


@dataclass(frozen=True)
class BlockingStats:
    candidate_pairs: int
    full_pairs: int
    keys_used: int
    keys_dropped: int
    pairs_per_kind: dict[str, int]

    @property
    def reduction(self) -> float:
        """Share of the full cross product that was NOT compared."""
        return 1.0 - self.candidate_pairs / self.full_pairs if self.full_pairs else 0.0


def record_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (row index, blocking key); keys are prefixed with their kind (`t:`, `zip:`, ...)."""
    base = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        pl.col("n_core").str.split(" ").list.unique().alias("tokens"),
        "n_postal", "n_phone", "n_email_domain", "n_web_domain", "n_street", "n_city",
    )
    tokens = (
        base.select("row", "tokens", "n_postal", "n_city").explode("tokens").rename({"tokens": "tok"})
        .filter((pl.col("tok").str.len_chars() >= 2) & ~pl.col("tok").is_in(list(_GENERIC_TOKENS)))
    )
    parts = [
        tokens.select("row", key=pl.lit("t:") + pl.col("tok")),
        # A typo late in a word still shares the word's first four letters.
        tokens.filter(pl.col("tok").str.len_chars() >= 5).select("row", key=pl.lit("tp:") + pl.col("tok").str.slice(0, 4)),
        # A common word narrowed by place: the same common word near the same ZIP or in the same city.
        tokens.filter(pl.col("n_postal") != "").select(
            "row", key=pl.lit("tz:") + pl.col("tok") + "|" + pl.col("n_postal").str.slice(0, 3)
        ),
        tokens.filter(pl.col("n_city") != "").select(
            "row", key=pl.lit("tc:") + pl.col("tok") + "|" + pl.col("n_city")
        ),
    ]
    # Ordered pairs of distinct words: rare combinations of common words ("garcia|lopez").
    pairs = (
        tokens.select("row", "tok")
        .join(tokens.select("row", tok2="tok"), on="row")
        .filter(pl.col("tok") < pl.col("tok2"))
        .select("row", key=pl.lit("tt:") + pl.col("tok") + "|" + pl.col("tok2"))
    )
    parts.append(pairs)
    for kind, col in (("zip", "n_postal"), ("ph", "n_phone"), ("dom", "n_web_domain"), ("dom", "n_email_domain")):
        parts.append(base.filter(pl.col(col) != "").select("row", key=pl.lit(f"{kind}:") + pl.col(col)))
    street = base.select("row", num=pl.col("n_street").str.extract(r"^(\d+[a-z]?)\s+([a-z0-9]+)", 0))
    parts.append(street.filter(pl.col("num").is_not_null()).select("row", key=pl.lit("st:") + pl.col("num")))
    return pl.concat(parts).unique()


def _kind(key: pl.Expr) -> pl.Expr:
    return key.str.extract(r"^([a-z]+):", 1)


def candidate_pairs(
    left: pl.DataFrame, right: pl.DataFrame | None = None, max_block_pairs: int = 2_000
) -> tuple[pl.DataFrame, BlockingStats]:
    """Row-index pairs (`li`, `ri`) to score. With `right=None`, pairs within `left` (li < ri)."""
    dedupe = right is None
    lkeys = record_keys(left)
    rkeys = lkeys if dedupe else record_keys(right)
    lcount = lkeys.group_by("key").len("nl")
    rcount = lcount.rename({"nl": "nr"}) if dedupe else rkeys.group_by("key").len("nr")
    sizes = lcount.join(rcount, on="key", how="inner")
    block_pairs = (
        pl.col("nl").cast(pl.Int64) * (pl.col("nl") - 1) // 2 if dedupe else pl.col("nl").cast(pl.Int64) * pl.col("nr")
    )
    sizes = sizes.with_columns(pairs=block_pairs).filter(pl.col("pairs") > 0)
    kept = sizes.filter(pl.col("pairs") <= max_block_pairs).select("key")
    joined = (
        lkeys.join(kept, on="key", how="semi")
        .rename({"row": "li"})
        .join(rkeys.join(kept, on="key", how="semi").rename({"row": "ri"}), on="key")
    )
    if dedupe:
        joined = joined.filter(pl.col("li") < pl.col("ri"))
    per_kind = joined.group_by(_kind(pl.col("key")).alias("kind")).len()
    pairs = joined.select("li", "ri").unique().sort("li", "ri")
    n_left = left.height
    full = n_left * (n_left - 1) // 2 if dedupe else n_left * right.height
    stats = BlockingStats(
        candidate_pairs=pairs.height,
        full_pairs=full,
        keys_used=kept.height,
        keys_dropped=sizes.height - kept.height,
        pairs_per_kind={row["kind"]: row["len"] for row in per_kind.iter_rows(named=True)},
    )
    return pairs, stats
