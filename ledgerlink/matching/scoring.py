"""Scoring candidate pairs field by field, keeping each field's contribution.

A pair's score is a weighted mean of field similarities (0..1) over the fields both records
have. Missing fields neither help nor hurt, except that the denominator never falls below
`min_evidence`: a pair that agrees on the name alone cannot reach the auto-link band, because
a name with nothing to back it up is exactly how two different "Acme Inc" get merged.

contribution[f] = weight[f] * similarity[f] / max(sum of weights of present fields, min_evidence)
score = sum of contributions, so a person reading the contributions sees why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

FIELDS = ("name", "street", "city", "postal", "phone", "domain")

DEFAULT_WEIGHTS = {
    "name": 0.45,
    "street": 0.15,
    "city": 0.05,
    "postal": 0.10,
    "phone": 0.12,
    "domain": 0.13,
}


@dataclass(frozen=True)
class ScoringConfig:
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    min_evidence: float = 0.60
    # Similarity of a code (ZIP, phone) that differs by one character: a typo, not a different place.
    one_edit_credit: float = 0.6
    local_number_credit: float = 0.9


def _fuzzy(left: pl.Series, right: pl.Series, scorer) -> np.ndarray:
    scores = process.cpdist(left.to_list(), right.to_list(), scorer=scorer, workers=-1, dtype=np.float32)
    return scores / np.float32(100)


def _code_similarity(left: pl.Series, right: pl.Series, credit: float) -> np.ndarray:
    distance = process.cpdist(left.to_list(), right.to_list(), scorer=Levenshtein.distance, workers=-1)
    return np.where(distance == 0, 1.0, np.where(distance == 1, credit, 0.0)).astype(np.float32)


def _phone_similarity(left: pl.Series, right: pl.Series, config: ScoringConfig) -> np.ndarray:
    """Same ten digits: 1. Same last seven: `local_number_credit` (a country code or trunk zero
    written one way and not the other: `+49 30 123456` vs `030 123456`). One typo: `one_edit_credit`."""
    sim = _code_similarity(left, right, config.one_edit_credit)
    same_local = (left.str.slice(-7) == right.str.slice(-7)).to_numpy()
    return np.where(sim == 1, 1.0, np.where(same_local, config.local_number_credit, sim)).astype(np.float32)


_LATER_FIELDS = (
    # field, column, scorer; computed after the cheap fields, only for pairs that can still matter
    ("street", "n_street", "fuzzy_sorted"),
    ("city", "n_city", "fuzzy"),
    ("postal", "n_postal", "code"),
    ("phone", "n_phone", "phone"),
)


def _gathered(left: pl.DataFrame, right: pl.DataFrame, col: str, li: np.ndarray, ri: np.ndarray):
    a, b = left[col].gather(li), right[col].gather(ri)
    missing = ((a == "") | (b == "")).to_numpy()
    return a, b, missing


def _later_similarity(kind: str, a: pl.Series, b: pl.Series, config: ScoringConfig) -> np.ndarray:
    if kind == "fuzzy_sorted":
        return _fuzzy(a, b, fuzz.token_sort_ratio)
    if kind == "fuzzy":
        return _fuzzy(a, b, fuzz.ratio)
    if kind == "code":
        return _code_similarity(a, b, config.one_edit_credit)
    return _phone_similarity(a, b, config)


def _best_possible(kind: str, a: pl.Series, b: pl.Series, config: ScoringConfig) -> np.ndarray:
    """An upper bound of the field's similarity from a cheap equality test."""
    equal = (a == b).to_numpy()
    if kind == "code":
        return np.where(equal, 1.0, config.one_edit_credit).astype(np.float32)
    if kind == "phone":
        return np.where(equal, 1.0, max(config.one_edit_credit, config.local_number_credit)).astype(np.float32)
    return np.ones(len(equal), dtype=np.float32)


def field_similarities(
    left: pl.DataFrame,
    right: pl.DataFrame,
    li: np.ndarray,
    ri: np.ndarray,
    config: ScoringConfig,
    prune_below: float | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(kept pair positions, similarity per field for those pairs; NaN where either lacks the field).

    Name and domain are scored for every pair. With `prune_below`, a pair whose best possible
    score (every remaining field perfect, or as good as a cheap equality test allows) is below
    it is dropped before the slower fields are scored: it could never reach review.
    """
    weights = config.weights
    sims: dict[str, np.ndarray] = {}
    # Name: the better of the words in their order and sorted, so a reordering ("Koch & Michael")
    # and a typo that moves a word in the sort ("Mrtals" vs "Metals") both score fairly.
    if weights.get("name", 0) > 0:
        a, b, missing = _gathered(left, right, "n_core", li, ri)
        in_order = _fuzzy(a, b, fuzz.ratio)
        sorted_ = _fuzzy(left["n_tokens"].gather(li), right["n_tokens"].gather(ri), fuzz.ratio)
        sims["name"] = np.maximum(in_order, sorted_)
        sims["name"][missing] = np.nan
    if weights.get("domain", 0) > 0:
        sims["domain"] = _domain_similarity(left, right, li, ri)
    later = [(f, col, kind) for f, col, kind in _LATER_FIELDS if weights.get(f, 0) > 0]
    keep = np.arange(len(li))
    if prune_below is not None and later:
        known = np.zeros(len(li), dtype=np.float32)
        present = np.zeros(len(li), dtype=np.float32)
        for f, sim in sims.items():
            known += np.where(np.isnan(sim), 0, weights[f] * sim)
            present += np.where(np.isnan(sim), 0, weights[f])
        for f, col, kind in later:
            a, b, missing = _gathered(left, right, col, li, ri)
            known += np.where(missing, 0, weights[f] * _best_possible(kind, a, b, config))
            present += np.where(missing, 0, weights[f])
        best = known / np.maximum(present, np.float32(config.min_evidence))
        keep = np.flatnonzero(best >= np.float32(prune_below) - np.float32(1e-4))
        sims = {f: sim[keep] for f, sim in sims.items()}
        li, ri = li[keep], ri[keep]
    for f, col, kind in later:
        a, b, missing = _gathered(left, right, col, li, ri)
        sim = _later_similarity(kind, a, b, config).astype(np.float32)
        sim[missing] = np.nan
        sims[f] = sim
    return keep, sims


def _domain_similarity(left: pl.DataFrame, right: pl.DataFrame, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """1 if the records share a web or e-mail domain, 0 if both have domains but none shared.

    Web and e-mail domains are compared across each other because one system often has only
    a website and the other only an address (`www.acme.com` vs `bob@acme.com`).
    """
    frame = pl.DataFrame(
        {
            "lw": left["n_web_domain"].gather(li),
            "le": left["n_email_domain"].gather(li),
            "rw": right["n_web_domain"].gather(ri),
            "re": right["n_email_domain"].gather(ri),
        }
    )
    out = frame.select(
        has=((pl.col("lw") != "") | (pl.col("le") != "")) & ((pl.col("rw") != "") | (pl.col("re") != "")),
        same=(
            ((pl.col("lw") != "") & ((pl.col("lw") == pl.col("rw")) | (pl.col("lw") == pl.col("re"))))
            | ((pl.col("le") != "") & ((pl.col("le") == pl.col("rw")) | (pl.col("le") == pl.col("re"))))
        ),
    )
    sim = out["same"].cast(pl.Float32).to_numpy().copy()
    sim[~out["has"].to_numpy()] = np.nan
    return sim


def score_pairs(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    config: ScoringConfig | None = None,
    prune_below: float | None = None,
) -> pl.DataFrame:
    """`pairs` (li, ri) plus `score`, `sim_<field>` (null when missing) and `contrib_<field>`.

    With `prune_below`, pairs that cannot reach that score are left out of the result.
    """
    config = config or ScoringConfig()
    keep, sims = field_similarities(left, right, pairs["li"].to_numpy(), pairs["ri"].to_numpy(), config, prune_below)
    li = pairs["li"].to_numpy()[keep]
    ri = pairs["ri"].to_numpy()[keep]
    weights = {f: np.float32(config.weights[f]) for f in sims}
    present_weight = np.zeros(len(li), dtype=np.float32)
    for f, sim in sims.items():
        present_weight += np.where(np.isnan(sim), 0, weights[f])
    denom = np.maximum(present_weight, np.float32(config.min_evidence))
    columns: dict[str, np.ndarray] = {"li": li, "ri": ri}
    score = np.zeros(len(li), dtype=np.float32)
    contribs = {}
    for f, sim in sims.items():
        contrib = np.where(np.isnan(sim), 0, weights[f] * sim) / denom
        contribs[f] = contrib.astype(np.float32)
        score += contribs[f]
    columns["score"] = np.round(score, 4)
    for f in FIELDS:
        if f in sims:
            columns[f"sim_{f}"] = sims[f]
    for f in FIELDS:
        if f in contribs:
            columns[f"contrib_{f}"] = np.round(contribs[f], 4)
    out = pl.DataFrame(columns)
    return out.with_columns(pl.col(f"sim_{f}").fill_nan(None) for f in sims)
