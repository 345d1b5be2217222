"""The matcher's knobs. Thresholds come from `ledgerlink.yaml` (matching.*); the rest are tuned defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledgerlink.db import ConfigurationError
from ledgerlink.matching.scoring import FIELDS, ScoringConfig

# Tuned on the generator's `medium` profile (see bench/bench_matching.py).
DEFAULT_AUTO_LINK = 0.90
DEFAULT_REVIEW = 0.75


@dataclass(frozen=True)
class MatchConfig:
    auto_link_threshold: float = DEFAULT_AUTO_LINK
    review_threshold: float = DEFAULT_REVIEW
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    # Blocks whose pair count exceeds this are too unspecific to compare in full.
    max_block_pairs: int = 2_000
    # A duplicate cluster never grows past this many records (a guard against runaway merges).
    max_cluster_size: int = 25
    # Two different candidates both above auto-link and closer than this: a person decides.
    ambiguity_margin: float = 0.03
    # How many candidates per record the review queue shows.
    review_candidates: int = 3
    # Skip the slower fields of pairs that cannot reach the review threshold (they are left out
    # of the scored pairs). Off when every compared pair must be listed.
    prune_below_review: bool = True

    def __post_init__(self) -> None:
        auto, review = self.auto_link_threshold, self.review_threshold
        if not (0 < review <= 1 and 0 < auto <= 1):
            raise ConfigurationError(
                f"matching thresholds are scores between 0 and 1; got auto_link_threshold={auto}, "
                f"review_threshold={review} (set them in ledgerlink.yaml under 'matching:')"
            )
        if review > auto:
            raise ConfigurationError(
                f"matching.review_threshold ({review}) must not exceed matching.auto_link_threshold ({auto})"
            )
        unknown = set(self.scoring.weights) - set(FIELDS)
        if unknown:
            raise ConfigurationError(f"unknown matching field weight(s) {sorted(unknown)}; known: {list(FIELDS)}")

    @classmethod
    def from_settings(cls, settings, **overrides) -> MatchConfig:
        """From `ledgerlink.config.Settings` (its `matching` section)."""
        return cls(
            auto_link_threshold=settings.matching.auto_link_threshold,
            review_threshold=settings.matching.review_threshold,
            **overrides,
        )

    @property
    def prune_below(self) -> float | None:
        return self.review_threshold if self.prune_below_review else None

    def decide(self, score: float | None) -> str:
        """`auto_link`, `review` or `different` for one score."""
        if score is None:
            return "different"
        if score >= self.auto_link_threshold:
            return "auto_link"
        if score >= self.review_threshold:
            return "review"
        return "different"
