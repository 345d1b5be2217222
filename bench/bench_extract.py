"""Extract throughput on a large profile against raw COPY into the same Postgres.

The sandbox runs in its own process (`ledgerlink sandbox serve`), so this process's peak
memory is the extractor's alone. Prints:
  * Salesforce Opportunity extract (Bulk API 2.0 -> COPY -> upsert): rows/s
  * ceiling: raw COPY of the same rows into an identical table (types and indexes): rows/s
  * the ratio, and this process's peak RSS.

Extract and ceiling alternate `--runs` times (the machine is noisy); the median ratio is the figure.

usage: .venv/bin/python bench/bench_extract.py [--profile large] [--seed 1] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from ledgerlink import db
from ledgerlink.extract import salesforce as sf_extract
from ledgerlink.extract.specs import SPECS_BY_KEY

ROOT = Path(__file__).resolve().parent.parent


def start_sandbox(profile: str, seed: int, state_dir: Path) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/ledgerlink"), "sandbox", "serve", "--profile", profile, "--seed", str(seed),
         "--state-dir", str(state_dir), "--sf-port", "0", "--qbo-port", "0", "--oauth-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    env: dict[str, str] = {}
    for line in proc.stdout:
        match = re.match(r"export (\w+)=(.*)$", line.strip())
        if match:
            env[match.group(1)] = match.group(2).strip("'\"")
        if "LEDGERLINK_CA_BUNDLE" in env and "LEDGERLINK_QBO_REALM_ID" in env and len(env) >= 10:
            break
    if not env:
        raise SystemExit("sandbox did not start")
    return proc, env


def copy_ceiling(conn, payload: bytes) -> float:
    """Seconds for one raw COPY of `payload` into an empty table shaped like the staging table."""
    conn.execute("drop table if exists public.copy_ceiling")
    conn.execute("create table public.copy_ceiling (like staging.sf_opportunity including all)")
    conn.execute("checkpoint")
    t0 = time.perf_counter()
    with conn.cursor().copy("copy public.copy_ceiling from stdin (format csv)") as cp:
        for start in range(0, len(payload), 1 << 20):
            cp.write(payload[start : start + (1 << 20)])
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="large")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="extract/ceiling pairs, alternating (default 3)")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="llbench"))
    t0 = time.perf_counter()
    proc, env = start_sandbox(args.profile, args.seed, state / "sandbox")
    print(f"sandbox '{args.profile}' up in {time.perf_counter() - t0:.1f}s")
    os.environ.update(env)
    try:
        server = db.embedded_server(state / "pg")
        url = server.get_uri()
        db.migrate(url)
        from pipelines.resources import build_resources

        client = build_resources(resolve_env=True)["salesforce"].client()
        client.connect()
        spec = SPECS_BY_KEY[("salesforce", "Opportunity")]
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ratios = []
        with psycopg.connect(url, autocommit=True) as conn:
            payload = b""
            for run in range(1, args.runs + 1):
                # Each run is the initial extract of an empty table, from a clean checkpoint.
                conn.execute("drop table if exists staging.sf_opportunity")
                conn.execute("delete from sync.watermark")
                conn.execute("checkpoint")
                t0 = time.perf_counter()
                outcome = sf_extract.extract_object(client, conn, spec, run_id="bench", progress=lambda m: None)
                extract_s = time.perf_counter() - t0
                rows = outcome["counts"].rows_read
                if run == 1:  # before the ceiling's buffer exists: the extractor's own peak
                    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                if not payload:  # the ceiling copies the very rows the extract wrote, already formatted
                    buffer = io.BytesIO()
                    with conn.cursor().copy("copy (select * from staging.sf_opportunity) to stdout (format csv)") as cp:
                        for chunk in cp:
                            buffer.write(chunk)
                    payload = buffer.getvalue()
                copy_s = copy_ceiling(conn, payload)
                ratio = copy_s / extract_s
                ratios.append(ratio)
                print(f"run {run}: {rows:,} rows; extract (Bulk API -> COPY -> upsert) {extract_s:.2f}s = "
                      f"{rows / extract_s:,.0f} rows/s; ceiling (raw COPY) {copy_s:.2f}s = {rows / copy_s:,.0f} rows/s;"
                      f" ratio {ratio:.2f}", flush=True)
        print(f"ratio extract / COPY:     median {statistics.median(ratios):.2f}, min {min(ratios):.2f}, "
              f"max {max(ratios):.2f} over {len(ratios)} runs  (target >= 0.5)")
        print(f"peak RSS of extractor:    {peak_mb:,.0f} MB (before extract {rss_before / 1024:,.0f} MB; target < 1024)")
        server.cleanup()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
