"""Extract throughput on a large profile against raw COPY into the same Postgres.

The sandbox runs in its own process (`ledgerlink sandbox serve`), so this process's peak
memory is the extractor's alone. Prints:
  * Salesforce Opportunity extract (Bulk API 2.0 -> COPY -> upsert): rows/s
  * ceiling: raw COPY of the same rows into an identical table (types and indexes): rows/s
  * the ratio, and this process's peak RSS.

usage: .venv/bin/python bench/bench_extract.py [--profile large] [--seed 1]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import signal
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="large")
    parser.add_argument("--seed", type=int, default=1)
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
        with psycopg.connect(url, autocommit=True) as conn:
            t0 = time.perf_counter()
            outcome = sf_extract.extract_object(client, conn, spec, run_id="bench", progress=lambda m: None)
            extract_s = time.perf_counter() - t0
            rows = outcome["counts"].rows_read
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

            # Ceiling: COPY the same rows, already formatted, into an identical table (same
            # types, same indexes: the staging table needs its primary key for the upsert).
            buffer = io.BytesIO()
            with conn.cursor().copy("copy (select * from staging.sf_opportunity) to stdout (format csv)") as cp:
                for chunk in cp:
                    buffer.write(chunk)
            conn.execute("create table public.copy_ceiling (like staging.sf_opportunity including all)")
            payload = buffer.getvalue()
            t0 = time.perf_counter()
            with conn.cursor().copy("copy public.copy_ceiling from stdin (format csv)") as cp:
                for start in range(0, len(payload), 1 << 20):
                    cp.write(payload[start : start + (1 << 20)])
            copy_s = time.perf_counter() - t0

        extract_rate, copy_rate = rows / extract_s, rows / copy_s
        print(f"rows extracted:           {rows:,}")
        print(f"extract (bulk->COPY->upsert): {extract_s:.2f}s = {extract_rate:,.0f} rows/s")
        print(f"ceiling (raw COPY):       {copy_s:.2f}s = {copy_rate:,.0f} rows/s")
        print(f"ratio extract / COPY:     {extract_rate / copy_rate:.2f}  (target >= 0.5)")
        print(f"peak RSS of extractor:    {peak_mb:,.0f} MB (before extract {rss_before / 1024:,.0f} MB; target < 1024)")
        server.cleanup()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
