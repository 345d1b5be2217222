"""Blocking: which pairs are worth scoring, without ever comparing every pair.

Each record gets several keys (name words, pairs of name words, word prefixes, distinctive
word + place, postal code, phone, web/e-mail domain, street number + street name). Two records
are compared when they share at least one key, so a typo in one field (or a missing field)
does not hide a match the other keys still see. A key shared by too many records ("foods", a
big city's ZIP) says little and would explode the pair count, so blocks with more pairs than
their kind's cap are dropped; the more specific keys still cover those records.

Keys are 64-bit hashes, so the joins run on integers, not strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

# Name words too common to identify anyone; they never form a key.
_GENERIC_TOKENS = ["and", "of", "the", "de", "la", "le", "du", "y", "et", "und"]
_DIRECTIONS = ["n", "s", "e", "w", "ne", "nw", "se", "sw"]

KINDS = ("t", "tp", "tt", "tz", "tc", "zip", "ph", "dom", "st")
# Composite keys combine weaker evidence, so their blocks are held smaller.
COMPOSITE = frozenset({"tt", "tz", "tc"})


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

    @property
    def compared_share(self) -> float:
        return self.candidate_pairs / self.full_pairs if self.full_pairs else 0.0


def record_keys(frame: pl.DataFrame, common_token_share: float = 0.002) -> pl.DataFrame:
    """One row per (row index, hashed key); `key % 16` is the key's kind (index in KINDS).

    Kinds: `t` a name word, `tp` the first four letters of a long name word (a typo late in the
    word), `tt` two name words together (rare combinations of common words: "garcia|foods"),
    `tz` / `tc` a distinctive name word with the ZIP prefix / the city, `zip`, `ph` (last seven
    digits), `dom` (web or e-mail domain), `st` (street number + street name).

    A word is distinctive unless more than `common_token_share` of the records (and at least
    50) contain it: "foods" + city would join every food company in town, "garcia" + city is
    nearly an identity.
    """
    base = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        pl.col("n_core").str.split(" ").list.unique().alias("tok"),
        "n_postal", "n_phone", "n_email_domain", "n_web_domain", "n_street", "n_city",
    )
    tokens = (
        base.select("row", "tok", "n_postal", "n_city")
        .explode("tok")
        .filter((pl.col("tok").str.len_chars() >= 2) & ~pl.col("tok").is_in(_GENERIC_TOKENS))
    )
    common_limit = max(50, int(common_token_share * frame.height))
    distinctive = tokens.filter(pl.len().over("tok") <= common_limit)
    prefixes = tokens.filter(pl.col("tok").str.len_chars() >= 5).with_columns(p=pl.col("tok").str.slice(0, 4))
    word_pairs = (
        tokens.select("row", "tok")
        .join(tokens.select("row", tok2="tok"), on="row")
        .filter(pl.col("tok") < pl.col("tok2"))
    )
    street = (
        base.select("row", words=pl.col("n_street").str.split(" ").list.filter(~pl.element().is_in(_DIRECTIONS)))
        .select("row", num=pl.col("words").list.get(0, null_on_oob=True), name=pl.col("words").list.get(1, null_on_oob=True))
        .filter(pl.col("num").str.contains(r"\d") & pl.col("name").is_not_null())
    )
    emails = base.select("row", dom="n_email_domain")
    webs = base.select("row", dom="n_web_domain")

    def keyed(part: pl.DataFrame, kind: str, *cols: str) -> pl.DataFrame:
        # The kind lives in the key's low four bits, so one integer column says both.
        digest = pl.struct(pl.lit(kind).alias("_kind"), *cols).hash(7)
        return part.select("row", key=digest // 16 * 16 + KINDS.index(kind))

    parts = [
        keyed(tokens, "t", "tok"),
        keyed(prefixes, "tp", "p"),
        keyed(word_pairs, "tt", "tok", "tok2"),
        keyed(distinctive.filter(pl.col("n_postal") != "").with_columns(z=pl.col("n_postal").str.slice(0, 3)), "tz", "tok", "z"),
        keyed(distinctive.filter(pl.col("n_city") != ""), "tc", "tok", "n_city"),
        keyed(base.filter(pl.col("n_postal") != ""), "zip", "n_postal"),
        # Last seven digits: the same line with or without country code / trunk zero.
        keyed(base.filter(pl.col("n_phone") != "").with_columns(ph=pl.col("n_phone").str.slice(-7)), "ph", "ph"),
        keyed(pl.concat([webs, emails]).filter(pl.col("dom") != "").unique(), "dom", "dom"),
        keyed(street, "st", "num", "name"),
    ]
    # Every part has one row per (record, key) already: words were de-duplicated per record.
    return pl.concat(parts)


def candidate_pairs(
    left: pl.DataFrame,
    right: pl.DataFrame | None = None,
    max_block_pairs: int = 2_000,
    max_composite_block_pairs: int = 200,
) -> tuple[pl.DataFrame, BlockingStats]:
    """Row-index pairs (`li`, `ri`) to score. With `right=None`, pairs within `left` (li < ri)."""
    dedupe = right is None
    lkeys = record_keys(left).lazy()
    rkeys = lkeys if dedupe else record_keys(right).lazy()
    lcount = lkeys.group_by("key").len("nl")
    rcount = lcount.rename({"nl": "nr"}) if dedupe else rkeys.group_by("key").len("nr")
    nl = pl.col("nl").cast(pl.Int64)
    composite = [KINDS.index(k) for k in COMPOSITE]
    cap = pl.when((pl.col("key") % 16).is_in(composite)).then(max_composite_block_pairs).otherwise(max_block_pairs)
    sizes = (
        lcount.join(rcount, on="key", how="inner")
        .with_columns(pairs=nl * (nl - 1) // 2 if dedupe else nl * pl.col("nr"))
        .filter(pl.col("pairs") > 0)
        .with_columns(kept=pl.col("pairs") <= cap)
        .collect()
    )
    kept = sizes.lazy().filter("kept").select("key")
    joined = (
        lkeys.join(kept, on="key", how="semi").select(li="row", key="key")
        .join(rkeys.join(kept, on="key", how="semi").select(ri="row", key="key"), on="key")
    )
    if dedupe:
        joined = joined.filter(pl.col("li") < pl.col("ri"))
    # A pair is one 64-bit number while de-duplicating: much cheaper than two columns.
    packed = joined.select(p=pl.col("li").cast(pl.UInt64) * 2**32 + pl.col("ri").cast(pl.UInt64), kind=pl.col("key") % 16)
    packed = packed.collect()
    per_kind = packed.group_by("kind").len()
    pairs = (
        packed.select(pl.col("p").unique().sort())
        .select(li=(pl.col("p") // 2**32).cast(pl.UInt32), ri=(pl.col("p") % 2**32).cast(pl.UInt32))
    )
    n_left = left.height
    full = n_left * (n_left - 1) // 2 if dedupe else n_left * right.height
    stats = BlockingStats(
        candidate_pairs=pairs.height,
        full_pairs=full,
        keys_used=int(sizes["kept"].sum()),
        keys_dropped=int((~sizes["kept"]).sum()),
        pairs_per_kind={KINDS[k]: n for k, n in per_kind.iter_rows()},
    )
    return pairs, stats
