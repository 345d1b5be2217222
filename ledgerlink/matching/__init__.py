"""Customer matching: normalise, block, score, decide; a plain library with no Dagster inside."""
