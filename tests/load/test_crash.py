"""Crash safety: the sender killed with SIGKILL at random points, then rerun, creates exactly
the invoices an uninterrupted run creates, with no duplicate."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter

from ledgerlink import paths
from ledgerlink.db import connect
from ledgerlink.load.planner import plan_invoices
from ledgerlink.load.sender import send_outbox
from tests.load.conftest import invoice_snapshot, link_truth, load_dataset, qbo_client, tiny_dataset

SCALE = 600


def prepare(url, dataset, settings):
    with connect(url, autocommit=True) as conn:
        load_dataset(conn, dataset)
        link_truth(conn, dataset)
        plan_invoices(conn, settings, as_of=dataset.as_of)
        return conn.execute("select count(*) from sync.outbox where status = 'pending'").fetchone()[0]


def open_batches(url) -> int:
    with connect(url) as conn:
        return conn.execute("select count(*) from sync.outbox_batch where status = 'open'").fetchone()[0]


def unfinished(url) -> int:
    with connect(url) as conn:
        return conn.execute(
            "select (select count(*) from sync.outbox where status in ('pending', 'in_flight'))"
            " + (select count(*) from sync.outbox_batch where status = 'open')").fetchone()[0]


def test_sigkill_during_send_then_rerun_matches_an_uninterrupted_run(db_url, second_db, settings,
                                                                     sandbox_factory, monkeypatch):
    # Every open stage too, so there is plenty to send.
    settings.loads.closed_won_stages = ["Closed Won", "Negotiation", "Proposal", "Qualification", "Prospecting"]

    reference = sandbox_factory(dataset=tiny_dataset(), time_scale=SCALE)
    rows = prepare(second_db, reference.dataset, settings)
    assert rows >= 20
    result = send_outbox(second_db, qbo_client(reference.env, second_db, time_scale=SCALE), max_attempts=5,
                         batch_size=2)
    assert result.aborted is None and result.failed == 0
    expected = invoice_snapshot(reference.qbo)

    crashed = sandbox_factory(dataset=tiny_dataset(), time_scale=SCALE)  # env now points here
    crashed.qbo.latency_s = 0.1  # each request takes a while, so kills land mid-send
    prepare(db_url, crashed.dataset, settings)
    env = {**os.environ, "LEDGERLINK_QBO_TIME_SCALE": str(SCALE), "SEND_BATCH_SIZE": "1"}
    rng = random.Random(11)
    kills = mid_batch = 0
    for _attempt in range(12):
        proc = subprocess.Popen([sys.executable, "-m", "tests.load.send_process"], env=env, cwd=paths.PROJECT_ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rng.uniform(1.5, 4.0))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
            mid_batch += open_batches(db_url) > 0
        if not unfinished(db_url):
            break
    else:
        raise AssertionError("sender never finished")
    # One more run after the last crash: nothing left, nothing written.
    writes = crashed.qbo.writes
    final = subprocess.run([sys.executable, "-m", "tests.load.send_process"], env=env, cwd=paths.PROJECT_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr[-2000:]
    assert crashed.qbo.writes == writes

    assert kills >= 2, "the kills should have interrupted the send"
    assert mid_batch >= 1, "at least one kill should have left a batch open (sent, answer not recorded)"
    got = invoice_snapshot(crashed.qbo)
    assert Counter({doc: len(v) for doc, v in got.items()}).most_common(1)[0][1] == 1, "a duplicate invoice"
    assert got == expected
