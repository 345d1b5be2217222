"""Bench: validate every staging table of a generated profile with the quality suites.

    .venv/bin/python bench/bench_quality.py [--profile large] [--seed 1] [--repeat 1] [--workers N]
                                            [--suite NAME ...]

The profile comes from `sandbox.generator.generate`, loaded straight into the staging tables
(COPY, the shape the extract leaves; loading is not part of the figure) of a throw-away
embedded Postgres (or LEDGERLINK_BENCH_DATABASE_URL's server; then `--keep` leaves the database
`ll_bench_quality` and `--reuse` validates it again: generating `large` takes minutes).

Every staging suite then runs as the nightly checks do (relation, GX passes, quarantine,
results): one at a time, as the nightly job's in-process executor runs them (the figure that
counts), and `--workers` at a time (default: the CPUs) for a multiprocess executor. The GX import
is done before the clock starts and printed on its own (the in-process nightly pays it once).
Printed against:
* the target: 30 s for the large profile on this machine;
* a floor measured in the same run: one pass over every staging table's rows, the least any
  validation pays to read the data once (measured before and after: a big change means the
  machine was busy with something else).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psycopg import sql  # noqa: E402

from ledgerlink import db  # noqa: E402
from ledgerlink.extract.qbo import pluck  # noqa: E402
from ledgerlink.extract.specs import QBO_ENTITIES, SALESFORCE_OBJECTS, child_table, ensure_staging_tables  # noqa: E402

TARGET_SECONDS = 30.0


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _json(record: dict) -> str:
    return json.dumps(record, default=lambda v: v.isoformat() if isinstance(v, dt.date | dt.datetime) else str(v)
                      if isinstance(v, Decimal) else repr(v))


def _copy(conn, table: str, columns: list[str], rows) -> int:
    count = 0
    statement = sql.SQL("copy staging.{} ({}) from stdin").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def load(conn, dataset) -> dict[str, int]:
    """The dataset into staging as a full extract leaves it (lines numbered like the extract)."""
    counts = {}
    for spec in SALESFORCE_OBJECTS:
        records = dataset.salesforce.get(spec.name, [])
        cols = list(spec.columns)
        counts[spec.table] = _copy(
            conn, spec.table, [c.name for c in cols] + ["raw", "_deleted"],
            (tuple(_text(r.get(c.source)) for c in cols) + (_json(r), bool(r.get("IsDeleted"))) for r in records),
        )
    for entity in QBO_ENTITIES:
        records = dataset.qbo.get(entity.name, [])
        cols = list(entity.all_columns)
        counts[entity.table] = _copy(
            conn, entity.table, [c.name for c in cols] + ["raw", "_deleted"],
            (tuple(pluck(r, c.source) for c in cols) + (_json(r), r.get("status") == "Deleted") for r in records),
        )
        for child in entity.children:
            table = child_table(entity, child)

            def lines(child=child, records=records):
                for parent in records:
                    for line_no, line in enumerate(parent.get(child.path) or []):
                        if line.get("DetailType") not in child.skip_detail_types:
                            yield (parent["Id"], line_no, *(pluck(line, c.source) for c in child.columns), _json(line))

            counts[table] = _copy(
                conn, table, ["parent_id", "line_no"] + [c.name for c in child.columns] + ["raw"], lines()
            )
    conn.execute("analyze")
    return counts


def scan_floor(url: str, tables: list[str]) -> float:
    """One pass over every staging table's rows (the heap, not just an index)."""
    with db.connect(url) as conn:
        start = time.perf_counter()
        for table in tables:
            conn.execute(sql.SQL("select count(*) from staging.{} where not _deleted").format(
                sql.Identifier(table))).fetchone()
        return time.perf_counter() - start


def _warm() -> None:
    import great_expectations  # noqa: F401  # the import a check process pays once


def _validate(url: str, name: str, run_id: str, run_date: dt.date) -> tuple[str, float, int, str]:
    from ledgerlink.quality.gate import run_suite
    from ledgerlink.quality.suites import suite_by_name

    start = time.perf_counter()
    run = run_suite(url, suite_by_name(name), run_id=run_id, run_date=run_date)
    took = time.perf_counter() - start
    failed = [o.rule.name for o in run.outcomes if o.outcome != "passed"]
    phases = " ".join(f"{k} {v:.2f}" for k, v in run.timings.items())
    verdict = f"{run.severity or 'passed'}{': ' + ', '.join(failed) if failed else ''}"
    return name, took, run.row_count, f"({phases})  {verdict}"


def validate_all(url: str, names: list[str], workers: int, run_id: str) -> float:
    """Wall seconds to validate `names`, `workers` suites at a time (as Dagster runs the checks)."""
    from concurrent.futures import ProcessPoolExecutor

    run_date = dt.date.today()
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_warm) as pool:
        # Warm every worker before the clock starts: the GX import is reported on its own.
        list(pool.map(time.sleep, [0.5] * workers))
        start = time.perf_counter()
        results = list(pool.map(_validate, [url] * len(names), names, [run_id] * len(names),
                                [run_date] * len(names)))
        wall = time.perf_counter() - start
    for name, took, rows, detail in results:
        print(f"  {name:26} {rows:>10,} rows {took:7.2f} s  {detail}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="large")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="validate this many times; the best is reported")
    parser.add_argument("--suite", action="append", help="only these suites (default: every staging suite)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="suites validated at a time, like the Dagster executor's processes (default: CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (external server only)")
    parser.add_argument("--reuse", action="store_true", help="validate the data a --keep run left")
    args = parser.parse_args()

    from ledgerlink.quality.suites import load_suites
    from sandbox.generator import generate

    external = os.environ.get("LEDGERLINK_BENCH_DATABASE_URL")
    data_dir = None
    if external:
        server_url = external
    else:
        import pgserver

        data_dir = tempfile.mkdtemp(prefix="llbq")
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
        server_url = server.get_uri()
    try:
        url = db.with_database(server_url, "ll_bench_quality")
        if args.reuse and external:
            with db.connect(url) as conn:
                counts = {
                    table: conn.execute(sql.SQL("select count(*) from staging.{}").format(sql.Identifier(table))).fetchone()[0]
                    for (table,) in conn.execute(
                        "select table_name from information_schema.tables where table_schema = 'staging'")
                }
            print(f"reusing ll_bench_quality: {sum(counts.values()):,} staging rows in {len(counts)} tables")
        else:
            with db.connect(server_url, autocommit=True) as conn:
                conn.execute("drop database if exists ll_bench_quality with (force)")
                conn.execute("create database ll_bench_quality")
            db.migrate(url)
            start = time.perf_counter()
            dataset = generate(args.profile, seed=args.seed)
            generated = time.perf_counter() - start
            start = time.perf_counter()
            with db.connect(url) as conn:
                ensure_staging_tables(conn)
                counts = load(conn, dataset)
            loaded = time.perf_counter() - start
            del dataset
            print(f"profile {args.profile} (seed {args.seed}): {sum(counts.values()):,} staging rows in {len(counts)} "
                  f"tables; generated in {generated:.1f} s, loaded in {loaded:.1f} s (not part of the figure)")
            print("  " + ", ".join(f"{t} {n:,}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1])))

        start = time.perf_counter()
        import great_expectations  # noqa: F401

        print(f"import great_expectations: {time.perf_counter() - start:.1f} s (once per Dagster check process)")

        staging_suites = [s for s in load_suites() if s.asset_key[0] == "staging"]
        if args.suite:
            staging_suites = [s for s in staging_suites if s.name in args.suite]
        # Longest first, so two workers finish together: cross-table queries, then by table size.
        staging_suites.sort(key=lambda s: (s.source.sql is None, -counts.get((s.source.table or ".").split(".")[1], 0)))
        names = [s.name for s in staging_suites]
        floor = scan_floor(url, sorted(counts))
        print(f"floor: one pass over every staging table's rows: {floor:.2f} s")
        figures = {}
        for workers in sorted({1, args.workers}):
            best = min(validate_all(url, names, workers, f"bench-w{workers}-{i}") for i in range(args.repeat))
            figures[workers] = best
            print(f"validation of {len(names)} staging suites, {workers} at a time: {best:.1f} s "
                  f"(best of {args.repeat}); {best / floor:.1f}x the floor; {best / TARGET_SECONDS:.2f} of the "
                  f"{TARGET_SECONDS:.0f} s target")
        floor_after = scan_floor(url, sorted(counts))
        print(f"floor again after validating: {floor_after:.2f} s (a large change means a noisy machine)")
    finally:
        if external and not args.keep:
            with db.connect(server_url, autocommit=True) as conn:
                conn.execute("drop database if exists ll_bench_quality with (force)")
        if data_dir:
            server.cleanup()
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
