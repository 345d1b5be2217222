"""A backfill launched through the Dagster UI's API over a date range runs every partition.

Starts `ledgerlink sandbox serve` and `ledgerlink ui` (webserver + daemon) as a user would, then
launches the backfill with the same GraphQL mutation the UI's "Launch backfill" button sends.
Slow (two full nightly runs through the daemon): opt in with LEDGERLINK_SLOW_TESTS=1.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

LEDGERLINK = str(Path(sys.executable).parent / "ledgerlink")
pytestmark = pytest.mark.skipif(
    not os.environ.get("LEDGERLINK_SLOW_TESTS"), reason="slow (about 3 minutes); set LEDGERLINK_SLOW_TESTS=1"
)

LAUNCH = """mutation($names: [String!]!) { launchPartitionBackfill(backfillParams: {
  selector: { partitionSetName: "nightly_partition_set",
              repositorySelector: { repositoryLocationName: "ledgerlink", repositoryName: "__repository__" } },
  partitionNames: $names }) { __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
STATUS = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
  status partitionStatuses { results { partitionName runStatus } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ui_backfill_over_two_days_runs_both_partitions(tmp_path):
    env = dict(os.environ, LEDGERLINK_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    env.pop("LEDGERLINK_DATABASE_URL", None)
    sandbox = subprocess.Popen(
        [LEDGERLINK, "sandbox", "serve", "--profile", "tiny", "--seed", "2", "--sf-port", "0", "--qbo-port", "0",
         "--oauth-port", "0", "--state-dir", str(tmp_path / "sandbox")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    procs = [sandbox]
    try:
        for line in sandbox.stdout:
            match = re.match(r"export (\w+)=(.*)$", line.strip())
            if match:
                env[match.group(1)] = match.group(2).strip("'\"")
            if "LEDGERLINK_CA_BUNDLE" in env:
                break
        port = _free_port()
        ui = subprocess.Popen([LEDGERLINK, "ui", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append(ui)
        graphql = f"http://127.0.0.1:{port}/graphql"
        for _ in range(300):  # deadlock guard while the UI loads the code location
            try:
                if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(1)
        launched = requests.post(graphql, json={"query": LAUNCH, "variables": {"names": ["2026-11-20", "2026-11-21"]}},
                                 timeout=60).json()["data"]["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        status = None
        for _ in range(180):
            status = requests.post(graphql, json={"query": STATUS, "variables": {"id": launched["backfillId"]}},
                                   timeout=30).json()["data"]["partitionBackfillOrError"]
            if status["status"].startswith("COMPLETED") or status["status"] == "FAILED":
                break
            time.sleep(5)
        assert status["status"] == "COMPLETED_SUCCESS", status
        assert {r["partitionName"]: r["runStatus"] for r in status["partitionStatuses"]["results"]} == {
            "2026-11-20": "SUCCESS", "2026-11-21": "SUCCESS"}
    finally:
        for proc in reversed(procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM) if proc is not sandbox else proc.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
            proc.wait(timeout=30)
