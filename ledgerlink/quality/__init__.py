"""Data-quality gates: Great Expectations suites, kept as JSON files, run against Postgres.

How it fits together (plain functions here; the Dagster wiring is `assets/quality.py`):

* `suites`: every `expectations/<suite>.json` is a GX 1.x suite (`name`, `expectations`, `meta`)
  with LedgerLink settings in `meta`: which Dagster asset it checks, which table or SQL query it
  validates, whether its check blocks, and per expectation a stable `name`, a human `description`
  and, for row-level expectations, a `quarantine` rule. `expectations/README.md` documents the
  format for the people who edit it. Loading is pure JSON (no GX import) and fails fast with the
  file and the key at fault.
* `snapshot`: the rows a suite validates, as `quality.<suite>`: a view of the live rows for a
  table source, an unlogged table computed once for a cross-table query in `sql/quality/`.
* `runner`: GX in an ephemeral context over the snapshot (SQL datasource, so Postgres does the
  counting, never pandas). Pass 1 asks only pass/fail (cheapest); pass 2 re-runs the failures for
  counts and examples; pass 3 fetches the full list of failing keys for row-level expectations.
* `quarantine`: failing records of row-level expectations go to `sync.quarantine`; records that
  pass on a later run are released. The loads skip `open_quarantine_ids(conn, table)`.
* `gate`: one suite run end to end, and the verdict: a critical table-level failure (or a
  row-level failure that is too widespread to be about single rows) is an ERROR that blocks; a
  quarantined row-level failure or a warning-severity failure is a WARN; `info` is reported only.
* `results` / `report`: per-run results in `sync.quality_result`, printed by
  `ledgerlink quality report` and shown as check metadata.
"""
