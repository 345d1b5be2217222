"""Crash safety: the sender killed with SIGKILL mid-send (before and after QBO applied a batch), then
rerun, creates exactly the invoices an uninterrupted run creates, with no duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


def open_batch_ids(conn) -> set[int]:
    return {r[0] for r in conn.execute("select id from sync.outbox_batch where status = 'open'")}


def unfinished(url) -> int:
    with connect(url) as conn:
        return conn.execute(
            "select (select count(*) from sync.outbox where status in ('pending', 'in_flight'))"
            " + (select count(*) from sync.outbox_batch where status = 'open')").fetchone()[0]


def start_sender(env):
    return subprocess.Popen([sys.executable, "-m", "tests.load.send_process"], env=env, cwd=paths.PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(proc, condition) -> bool:
    """SIGKILL the sender the moment `condition()` holds; False if it finished first."""
    while proc.poll() is None:
        if condition():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    return False


def test_sigkill_during_send_then_rerun_matches_an_uninterrupted_run(db_url, second_db, settings, sandbox_factory):
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
    prepare(db_url, crashed.dataset, settings)
    env = {**os.environ, "LEDGERLINK_QBO_TIME_SCALE": str(SCALE), "SEND_BATCH_SIZE": "1"}
    # Kills land at the two moments that matter, observed rather than timed (the machine may be slow):
    # a batch persisted as open but not yet applied by QBO, and a batch QBO applied whose answer
    # the sender never received (the server holds its answer back a while).
    crashed.qbo.latency_s = 0.05
    crashed.qbo.response_delay_s = 0.5
    kills = {"before_qbo_applied": 0, "after_qbo_applied": 0}
    left_open_after_apply = 0
    with connect(db_url, autocommit=True) as conn:
        for moment in ["before_qbo_applied", "after_qbo_applied"] * 2:
            already_open = open_batch_ids(conn)
            writes_at_start = crashed.qbo.writes
            if moment == "before_qbo_applied":
                def condition(already_open=already_open, writes_at_start=writes_at_start):
                    return bool(open_batch_ids(conn) - already_open) and crashed.qbo.writes == writes_at_start
            else:
                def condition(writes_at_start=writes_at_start):
                    return crashed.qbo.writes > writes_at_start
            assert kill_when(start_sender(env), condition), f"the sender finished before the {moment} kill"
            kills[moment] += 1
            left_open_after_apply += moment == "after_qbo_applied" and bool(open_batch_ids(conn))
    assert unfinished(db_url) > 0

    crashed.qbo.response_delay_s = 0.0
    rerun = subprocess.run([sys.executable, "-m", "tests.load.send_process"], env=env, cwd=paths.PROJECT_ROOT,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert unfinished(db_url) == 0
    # One more run after that: nothing left, nothing written.
    writes = crashed.qbo.writes
    final = subprocess.run([sys.executable, "-m", "tests.load.send_process"], env=env, cwd=paths.PROJECT_ROOT,
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    assert crashed.qbo.writes == writes

    assert kills == {"before_qbo_applied": 2, "after_qbo_applied": 2}
    assert left_open_after_apply == 2, "a kill after QBO applied a batch leaves it open (sent, answer not recorded)"
    got = invoice_snapshot(crashed.qbo)
    assert Counter({doc: len(v) for doc, v in got.items()}).most_common(1)[0][1] == 1, "a duplicate invoice"
    assert got == expected
