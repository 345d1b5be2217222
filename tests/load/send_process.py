"""Run the sender in its own process (the crash test kills it with SIGKILL at random points).

Environment: LEDGERLINK_DATABASE_URL, the LEDGERLINK_QBO_* variables of a sandbox,
LEDGERLINK_QBO_TIME_SCALE, and SEND_BATCH_SIZE.
"""

from __future__ import annotations

import os
import sys

from ledgerlink.clients.qbo import QboClient, QboCredentials
from ledgerlink.load.sender import send_outbox


def main() -> int:
    env = os.environ
    creds = QboCredentials(
        client_id=env["LEDGERLINK_QBO_CLIENT_ID"], client_secret=env["LEDGERLINK_QBO_CLIENT_SECRET"],
        refresh_token=env["LEDGERLINK_QBO_REFRESH_TOKEN"], realm_id=env["LEDGERLINK_QBO_REALM_ID"],
        environment=env["LEDGERLINK_QBO_ENVIRONMENT"], api_url=env["LEDGERLINK_QBO_API_URL"],
        ca_bundle=env["LEDGERLINK_CA_BUNDLE"])
    url = env["LEDGERLINK_DATABASE_URL"]
    client = QboClient(creds, database_url=url).connect()
    result = send_outbox(url, client, max_attempts=5, run_id=env.get("SEND_RUN_ID"),
                         batch_size=int(env.get("SEND_BATCH_SIZE", "30")))
    print(result.counts(), flush=True)
    return 1 if result.aborted else 0


if __name__ == "__main__":
    sys.exit(main())
