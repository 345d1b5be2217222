"""Benchmark the month-end report, and check it against the generator's ground truth.

    .venv/bin/python bench/bench_reports.py                  # large: one month, medium: every month
    .venv/bin/python bench/bench_reports.py --profile medium --skip-truth

Prints, for the `--profile` dataset (default `large`), the time `write_month` takes for the
month with the most reconciliation rows (build in Postgres + every CSV file), against the
issue's ceiling of 30 seconds, and against a reference measured in the same run on the same
database (one sequential read of every input table), so a noisy machine shows up in both.
Then it builds every month of the `medium` profile and counts rows or totals that differ from
the ground truth (must be 0). Runs on its own throwaway embedded Postgres.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from ledgerlink import db  # noqa: E402
from ledgerlink.config import ReportSettings  # noqa: E402
from ledgerlink.extract.specs import ensure_staging_tables  # noqa: E402
from ledgerlink.reconcile.report import write_month  # noqa: E402

CEILING_SECONDS = 30.0
INPUT_TABLES = (
    "staging.sf_opportunity", "staging.sf_opportunity_line_item", "staging.sf_account", "staging.sf_user",
    "staging.qb_invoice", "staging.qb_invoice_line", "staging.qb_customer", "staging.qb_credit_memo",
    "staging.qb_payment", "staging.qb_payment_line", "sync.customer_xref",
)


def _fresh_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name}")
    url = db.with_database(server_url, name)
    db.migrate(url)
    return url


def _load(url: str, profile: str, seed: int):
    from sandbox.generator import generate
    from tests.reports.staging_loader import load_dataset

    started = time.perf_counter()
    dataset = generate(profile, seed=seed)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_staging_tables(conn)
        load_dataset(conn, dataset)
        conn.execute("vacuum analyze")
    loaded = time.perf_counter() - started
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in {**dataset.salesforce, **dataset.qbo}.items()
                      if k in ("Opportunity", "OpportunityLineItem", "Invoice", "Payment"))
    print(f"{profile}: generated in {generated:.1f} s, loaded in {loaded:.1f} s ({sizes})")
    return dataset


def _reference(conn) -> float:
    """One sequential read of every input table: the least any report over them can cost."""
    started = time.perf_counter()
    for table in INPUT_TABLES:
        conn.execute(f"select count(*), sum(length(t::text)) from {table} t").fetchone()
    return time.perf_counter() - started


def bench_build(server_url: str, profile: str, seed: int, repeats: int, out: Path) -> None:
    url = _fresh_database(server_url, f"bench_{profile}")
    dataset = _load(url, profile, seed)
    months = Counter(r["month"] for r in dataset.truth.reconciliation)
    month, rows = months.most_common(1)[0]
    settings = ReportSettings(directory=out)
    with psycopg.connect(url, autocommit=True) as conn:
        reference = statistics.median(_reference(conn) for _ in range(repeats))
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            report = write_month(conn, month, settings)
            timings.append(time.perf_counter() - started)
    took = statistics.median(timings)
    print(f"\n{profile} {month} ({rows:,} reconciliation rows in the ground truth; runs: "
          f"{', '.join(f'{t:.2f}' for t in timings)} s)")
    print(f"  write_month (build + {len(report.files)} CSV files): {took:.2f} s "
          f"= {took / CEILING_SECONDS:.2f} x the {CEILING_SECONDS:.0f} s ceiling")
    print(f"  reference, one read of every input table: {reference:.2f} s; the report costs "
          f"{took / reference:.1f} x that")
    print(f"  bridge balanced: {report.balanced()}; Closed Won {report.closed_won_total:,.2f} -> "
          f"Invoiced {report.invoiced_total:,.2f} {report.home_currency}")


def check_truth(server_url: str, profile: str, seed: int, out: Path) -> int:
    from tests.reports.ground_truth import differences, truth_rows

    url = _fresh_database(server_url, f"truth_{profile}")
    dataset = _load(url, profile, seed)
    months = sorted(truth_rows(dataset))
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        problems = differences(conn, dataset, ReportSettings(directory=out), months)
    took = time.perf_counter() - started
    print(f"\n{profile} ground truth: {len(months)} months ({months[0]} .. {months[-1]}), "
          f"{len(dataset.truth.reconciliation):,} rows, built in {took:.1f} s "
          f"({took / len(months):.2f} s per month); differences: {len(problems)}")
    for line in problems[:20]:
        print("  ", line)
    return len(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="large")
    parser.add_argument("--truth-profile", default="medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-truth", action="store_true")
    args = parser.parse_args()

    import pgserver

    work = Path(tempfile.mkdtemp(prefix="llbench-reports"))
    # Its own throwaway server: stopped and deleted on the way out.
    server = pgserver.get_server(str(work / "pg"), cleanup_mode="delete")
    try:
        server_url = server.get_uri()
        bench_build(server_url, args.profile, args.seed, args.repeats, work / "reports")
        differing = 0 if args.skip_truth else check_truth(server_url, args.truth_profile, args.seed, work / "reports")
    finally:
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main())
