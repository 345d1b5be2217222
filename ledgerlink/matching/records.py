"""The matcher's input: plain company records with canonical columns, and their normalised form.

Input is a list of dicts or a polars DataFrame with any of the canonical columns; only `id`
and `name` are required. `prepare` adds the normalised columns that blocking and scoring use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from ledgerlink.matching import normalize as nz

CANONICAL_COLUMNS = ("id", "name", "address", "city", "postal_code", "phone", "email", "website", "country")
REQUIRED_COLUMNS = ("id", "name")


class RecordError(ValueError):
    """Input records the matcher cannot use; the message names the record and the field."""


def to_frame(records: Iterable[Mapping] | pl.DataFrame) -> pl.DataFrame:
    """Canonical string columns first, in canonical order (absent optional ones empty), then
    any other columns unchanged (`active`, `qbo_customer_id`, ...)."""
    if isinstance(records, pl.DataFrame):
        frame = records
    else:
        rows = list(records)
        extra = sorted({k for row in rows for k in row} - set(CANONICAL_COLUMNS))
        columns = (*CANONICAL_COLUMNS, *extra)
        frame = pl.DataFrame(
            {c: [row.get(c) for row in rows] for c in columns},
            schema_overrides={c: pl.String for c in CANONICAL_COLUMNS},
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise RecordError(f"records have no {', '.join(missing)} column (columns: {', '.join(frame.columns)})")
    frame = frame.select(
        *[
            (pl.col(c).cast(pl.String) if c in frame.columns else pl.lit(None, pl.String)).alias(c)
            for c in CANONICAL_COLUMNS
        ],
        *[c for c in frame.columns if c not in CANONICAL_COLUMNS],
    )
    blank_ids = frame.with_row_index("row").filter(pl.col("id").is_null() | (pl.col("id").str.strip_chars() == ""))
    if blank_ids.height:
        rows = ", ".join(str(r + 1) for r in blank_ids["row"].head(5))
        raise RecordError(f"record(s) at row {rows}: field 'id' is empty; every record needs an id")
    dupes = frame.group_by("id").len().filter(pl.col("len") > 1)
    if dupes.height:
        shown = ", ".join(repr(i) for i in dupes["id"].head(5))
        raise RecordError(f"field 'id' is not unique: {shown} appear more than once")
    return frame


def prepare(records: Iterable[Mapping] | pl.DataFrame) -> pl.DataFrame:
    """Canonical columns plus the normalised ones (`n_*`) used to block and score."""
    frame = to_frame(records)
    frame = frame.with_columns(
        n_name=nz.name_expr("name"),
        n_street=nz.street_expr("address"),
        n_city=nz.city_expr("city"),
        n_postal=nz.postal_expr("postal_code"),
        n_phone=nz.phone_expr("phone"),
        n_email_domain=nz.email_domain_expr("email"),
        n_web_domain=nz.website_domain_expr("website"),
        n_country=nz.country_expr("country"),
    )
    frame = frame.with_columns(nz.fix_known_word_typos(frame["n_name"]))
    frame = frame.with_columns(n_core=nz.core_name_expr("n_name"))
    # Tokens sorted once here, so a plain ratio later equals rapidfuzz's token_sort_ratio.
    return frame.with_columns(
        n_tokens=pl.col("n_core").str.split(" ").list.filter(pl.element() != "").list.sort().list.join(" "),
    )
