"""Sender throughput against the QBO emulator's throttle, as a ratio of QBO's ceiling.

QBO allows 40 batch calls per minute per realm, 30 items each: 1,200 invoices per minute is the
ceiling. This drives the real sender (real client, real limiter, real Postgres) over a backlog
big enough to keep it busy, with the emulator's clock compressed (`--time-scale`), and counts
invoices created per emulated minute in the steady state (after a warm-up window, because the
first window of a sliding limit admits a burst). It also counts 429 answers and checks none was
left unhandled (every backlog row sent, none dead-lettered for throttling, no aborted run).

    .venv/bin/python bench/bench_sender.py                       # time scale 10, 4 emulated minutes
    .venv/bin/python bench/bench_sender.py --batches-per-minute 38   # a client limiter closer to 40

The client's limiter is the clients package's (38 batch calls a minute by default, headroom
below QBO's 40), so 0.95 is the most the defaults can reach; the sender itself keeps the limiter
saturated. One sender thread by default, as the nightly run sends (`--workers 2` to compare). Faster time scales add the limiter's 50 ms wake-up buffer to every window and read a
little low.

The ceiling is read from the emulator's own throttle in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pgserver
from cryptography.fernet import Fernet
from psycopg.types.json import Jsonb

from ledgerlink import db
from ledgerlink.clients.qbo import QboClient, QboCredentials
from ledgerlink.clients.ratelimit import QboLimits, QboRateLimiter
from ledgerlink.extract.specs import ensure_staging_tables
from ledgerlink.load import keys
from ledgerlink.load.sender import Sender
from sandbox.generator import generate
from sandbox.server import Sandbox, SandboxSettings


def backlog(conn, dataset, count: int) -> None:
    """`count` invoice creations in the outbox, for existing USD customers and an active item."""
    customers = [c["Id"] for c in dataset.qbo["Customer"]
                 if c.get("Active", True) and (c.get("CurrencyRef") or {}).get("value", "USD") == "USD"]
    item = next(i for i in dataset.qbo["Item"] if i.get("Active", True))
    with conn.cursor() as cur, cur.copy(
        "copy sync.outbox (idempotency_key, entity, operation, phase, source_object, source_id, payload,"
        " payload_hash) from stdin"
    ) as copy:
        for n in range(count):
            source = f"bench{n:07d}"
            payload = {
                "DocNumber": f"B-{n:07d}", "TxnDate": dataset.as_of.isoformat(),
                "CustomerRef": {"value": customers[n % len(customers)]}, "PrivateNote": f"bench invoice {n}",
                "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 100,
                          "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 100}}],
            }
            copy.write_row((keys.invoice_key(source), "Invoice", "create", 2, "Opportunity", source,
                            Jsonb(payload), keys.payload_hash(payload)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-scale", type=float, default=10.0, help="emulated seconds per real second")
    parser.add_argument("--minutes", type=float, default=4.0, help="emulated minutes measured (steady state)")
    parser.add_argument("--warmup", type=float, default=1.0, help="emulated minutes before measuring")
    parser.add_argument("--workers", type=int, default=1,
                        help="sender threads, one DB connection each (default 1, as the nightly run)")
    parser.add_argument("--batches-per-minute", type=int, default=None,
                        help="client limiter's batch calls per minute (default: the clients package's)")
    args = parser.parse_args()
    scale = args.time_scale

    dataset = generate("tiny", seed=1)
    workdir = Path(tempfile.mkdtemp(prefix="llbench-sender"))
    # A throw-away PostgreSQL, stopped and deleted at the end.
    server = pgserver.get_server(workdir / "pg", cleanup_mode="delete")
    url = db.ensure_database(server.get_uri(), "bench")
    db.migrate(url)
    os.environ[db.DATABASE_URL_ENV] = url
    # A throw-away key for the throw-away token store of this run.
    os.environ.setdefault("LEDGERLINK_TOKEN_KEY", Fernet.generate_key().decode())
    with db.connect(url, autocommit=True) as conn:
        ensure_staging_tables(conn)

    sandbox = Sandbox(dataset, workdir / "sandbox", SandboxSettings(time_scale=scale)).start()
    try:
        throttle = sandbox.qbo.throttle
        ceiling_per_minute = throttle.batch_per_minute * 30
        total_minutes = args.warmup + args.minutes
        count = int(ceiling_per_minute * (total_minutes + 0.5))
        with db.connect(url, autocommit=True) as conn:
            backlog(conn, dataset, count)

        env = sandbox.env
        creds = QboCredentials(
            client_id=env["LEDGERLINK_QBO_CLIENT_ID"], client_secret=env["LEDGERLINK_QBO_CLIENT_SECRET"],
            refresh_token=env["LEDGERLINK_QBO_REFRESH_TOKEN"], realm_id=env["LEDGERLINK_QBO_REALM_ID"],
            environment=env["LEDGERLINK_QBO_ENVIRONMENT"], api_url=env["LEDGERLINK_QBO_API_URL"],
            ca_bundle=env["LEDGERLINK_CA_BUNDLE"])
        limits = QboLimits(time_scale=scale)
        if args.batches_per_minute:
            limits = QboLimits(batches_per_minute=args.batches_per_minute, time_scale=scale)
        client = QboClient(creds, database_url=url, time_scale=scale,
                           limiter=QboRateLimiter(creds.realm_id, limits)).connect()

        sender = Sender(url, client, max_attempts=5, run_id="bench", workers=args.workers)
        thread = threading.Thread(target=sender.run, daemon=True)
        minute_s = 60.0 / scale
        started = time.monotonic()
        thread.start()
        time.sleep(total_minutes * minute_s)
        sender._abort.set()  # stop claiming; batches in flight finish and are recorded
        thread.join(timeout=300)
        elapsed = time.monotonic() - started

        with db.connect(url) as conn:
            first = conn.execute("select min(sent_at) from sync.outbox where status = 'sent'").fetchone()[0]
            window = conn.execute(
                "select count(*) from sync.outbox where status = 'sent'"
                " and sent_at >= %(first)s + make_interval(secs => %(w0)s)"
                " and sent_at < %(first)s + make_interval(secs => %(w1)s)",
                {"first": first, "w0": args.warmup * minute_s, "w1": total_minutes * minute_s}).fetchone()[0]
            sent, failed, throttled_dead = conn.execute(
                "select count(*) filter (where status = 'sent'), count(*) filter (where status in ('failed', 'dead')),"
                " count(*) filter (where last_error_code = '3001') from sync.outbox").fetchone()
        per_minute = window / args.minutes
        report = {
            "time_scale": scale,
            "workers": args.workers,
            "client_batches_per_minute": limits.batches_per_minute,
            "ceiling_invoices_per_minute": ceiling_per_minute,
            "steady_invoices_per_emulated_minute": round(per_minute, 1),
            "ratio_of_ceiling": round(per_minute / ceiling_per_minute, 3),
            "invoices_sent_total": sent,
            "rejected": failed,
            "http_429_answers": throttle.throttled,
            "http_429_seen_by_client": client.counters.throttled,
            "429_left_unhandled": throttled_dead + (1 if sender.result.aborted else 0),
            "wall_seconds": round(elapsed, 1),
        }
        print(json.dumps(report, indent=2))
    finally:
        sandbox.stop()
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
