"""Bulk API 2.0 query throughput of the Salesforce emulator, against ceilings measured in the same run.

    .venv/bin/python bench/bench_sandbox_bulk.py [--records 500000] [--source synthetic|large]
                                                 [--max-records 50000] [--runs 2]

The sandbox runs in a child process (as it would beside the pipeline; two cores: server and
client each get one). The parent downloads every opportunity through simple-salesforce:

* `sf.bulk2.Opportunity.query(...)`: the whole generator, job creation and polling included;
* the download alone: the same client's `get_query_results` page loop after the job completed;
* ceiling 1, transport: the same bytes streamed by a bare Starlette app on the same uvicorn +
  TLS setup, read with `requests` in 1 MB chunks;
* ceiling 2, memory: the same bytes read from an in-memory buffer in 1 MB chunks.

Rows are counted by line ends (the synthetic and generated data have no newlines in values).
Figures are printed as rows/s and as ratios to the ceilings; there is no pass/fail threshold.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SOQL = (
    "SELECT Id, Name, AccountId, OwnerId, StageName, IsWon, IsClosed, CloseDate, Amount, "
    "CurrencyIsoCode, QBO_Invoice_Id__c, IsDeleted, SystemModstamp FROM Opportunity"
)
CHUNK = 1 << 20


def synthetic(n: int) -> dict[str, list[dict]]:
    """n opportunities over n/100 accounts and 20 users; realistic field shapes, no Faker."""
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal

    from sandbox.salesforce.ids import to18

    users = [
        {"Id": to18(f"005Bn{i:010d}"), "Username": f"rep{i}@bench.test", "LastName": f"Rep {i}",
         "Email": f"rep{i}@bench.test", "IsActive": True}
        for i in range(20)
    ]
    accounts = [{"Id": to18(f"001Bn{i:010d}"), "Name": f"Company {i} Ltd"} for i in range(max(1, n // 100))]
    stages = ["Prospecting", "Qualification", "Negotiation", "Closed Won", "Closed Lost"]
    base = datetime(2024, 1, 1, tzinfo=UTC)
    start = date(2024, 1, 1)
    opps = [
        {
            "Id": to18(f"006Bn{i:010d}"),
            "Name": f"Company {i % len(accounts)} Ltd - Deal {i}",
            "AccountId": accounts[i % len(accounts)]["Id"],
            "OwnerId": users[i % 20]["Id"],
            "StageName": stages[i % 5],
            "CloseDate": start + timedelta(days=i % 900),
            "Amount": Decimal(1000 + (i * 37) % 90000) + Decimal("0.50"),
            "CurrencyIsoCode": ("USD", "EUR", "GBP")[i % 3],
            "QBO_Invoice_Id__c": str(10000 + i) if i % 5 == 3 else None,
            "SystemModstamp": base + timedelta(seconds=i * 7),
            "IsDeleted": i % 997 == 0,
        }
        for i in range(n)
    ]
    return {"User": users, "Account": accounts, "Opportunity": opps}


def _drain(agen) -> list[bytes]:
    """The chunks of an async generator that never awaits, without an event loop around it."""
    chunks = []
    while True:
        try:
            agen.__anext__().send(None)
        except StopIteration as step:
            chunks.append(step.value)
        except StopAsyncIteration:
            return chunks


def serve(conn, records: int, source: str) -> None:
    """Child process: the sandbox plus a bare streaming app over the same bytes, until told to stop."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from sandbox.dataset import Dataset
    from sandbox.salesforce import bulk
    from sandbox.server import Sandbox, SandboxSettings, _listen, _Service

    t0 = time.perf_counter()
    if source == "synthetic":
        dataset = Dataset(salesforce=synthetic(records))
    else:
        from sandbox.generator import generate

        dataset = generate(source, seed=1)
    t1 = time.perf_counter()
    state = Path(tempfile.mkdtemp(prefix="bench-sf"))
    sandbox = Sandbox(dataset, state, SandboxSettings(sf_daily_api_limit=10**9))
    t2 = time.perf_counter()
    sandbox.start()

    # The exact bytes of the whole result as one page, for the ceilings.
    job = bulk.create_query_job(sandbox.sf, {"operation": "query", "query": SOQL}, "62.0")
    job.state = "JobComplete"
    _, body = bulk.query_results(sandbox.sf, job, None, str(len(job.rows) or 1))

    t3 = time.perf_counter()
    blob = b"".join(_drain(body))
    render_s = time.perf_counter() - t3
    # Forget the CSV lines that rendering cached, so the first measured run is a cold one.
    for rec in job.rows:
        del rec._line_key

    async def stream(request):
        async def chunks():
            view = memoryview(blob)
            for i in range(0, len(blob), CHUNK):
                yield bytes(view[i : i + CHUNK])

        return StreamingResponse(chunks(), media_type="text/csv")

    ceiling = _Service(Starlette(routes=[Route("/blob", stream)]), _listen(sandbox.host, 0), str(state / "server.pem"))
    ceiling.start()
    conn.send(
        {
            "sf_url": sandbox.sf_url,
            "ca_path": sandbox.ca_path,
            "client_id": sandbox.settings.sf_client_id,
            "client_secret": sandbox.settings.sf_client_secret,
            "blob_url": f"https://{sandbox.host}:{ceiling.sock.getsockname()[1]}/blob",
            "opportunities": len(dataset.salesforce.get("Opportunity", [])),
            "generate_s": t1 - t0,
            "load_s": t2 - t1,  # both emulators: SalesforceOrg and QboCompany
            "bytes": len(blob),
            "rows": len(job.rows),
            "render_s": render_s,
        }
    )
    conn.recv()
    ceiling.stop()
    sandbox.stop()


def _count(page: str | bytes) -> int:
    nl = "\n" if isinstance(page, str) else b"\n"
    return page.count(nl) - 1  # minus the header row


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped to a file
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=500_000, help="synthetic opportunities")
    parser.add_argument("--source", default="synthetic", help="synthetic, or a generator profile (large)")
    parser.add_argument("--max-records", type=int, default=50_000, help="rows per results page")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    import requests
    import simple_salesforce

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(child, args.records, args.source), daemon=True)
    proc.start()
    info = parent.recv()
    print(
        f"org: {info['opportunities']:,} opportunities ({args.source}); generate {info['generate_s']:.1f} s, "
        f"load into both emulators {info['load_s']:.1f} s; result {info['bytes'] / 1e6:.1f} MB"
    )
    print(f"server-side CSV rendering alone, cold (no network): {info['rows'] / info['render_s']:,.0f} rows/s")
    try:
        s = requests.Session()
        s.verify = info["ca_path"]
        s.trust_env = False
        tok = s.post(
            f"{info['sf_url']}/services/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(info["client_id"], info["client_secret"]),
        ).json()
        sf = simple_salesforce.Salesforce(
            instance_url=tok["instance_url"], session_id=tok["access_token"], session=s, version="62.0"
        )
        client = sf.bulk2.Opportunity._client
        results = {"generator": [], "download": [], "transport": [], "memory": []}
        for run in range(args.runs):
            t = time.perf_counter()
            rows = sum(_count(p) for p in sf.bulk2.Opportunity.query(SOQL, max_records=args.max_records, wait=0.1))
            results["generator"].append((rows, time.perf_counter() - t))

            job = client.create_job("query", query=SOQL)
            client.wait_for_job(job["id"], True, 0.1)
            t = time.perf_counter()
            rows, locator, pages = 0, "", []
            while True:
                page = client.get_query_results(job["id"], locator, args.max_records)
                rows += _count(page["records"])
                pages.append(page["records"])
                locator = page["locator"]
                if not locator:
                    break
            results["download"].append((rows, time.perf_counter() - t))

            t = time.perf_counter()
            with s.get(info["blob_url"], stream=True) as response:
                rows = sum(chunk.count(b"\n") for chunk in response.iter_content(CHUNK)) - 1
            results["transport"].append((rows, time.perf_counter() - t))

            blob = "".join(pages).encode()
            t = time.perf_counter()
            buffer = io.BytesIO(blob)
            lines = 0
            while chunk := buffer.read(CHUNK):
                lines += chunk.count(b"\n")
            results["memory"].append((lines - len(pages), time.perf_counter() - t))
            print(
                f"run {run + 1}: "
                + ", ".join(f"{k} {r / d:,.0f} rows/s" for k, ((r, d),) in ((k, v[-1:]) for k, v in results.items()))
            )
        best = {k: max(r / d for r, d in v) for k, v in results.items()}
        rows = results["download"][0][0]
        cold = {k: v[0][0] / v[0][1] for k, v in results.items()}
        print(f"\nrows per run: {rows:,} (pages of {args.max_records:,})")
        print(
            f"first run, cold (each record's CSV line built and cached on the way): sf.bulk2 query generator "
            f"{cold['generator']:,.0f} rows/s = {cold['generator'] / best['transport']:.2f} of the transport ceiling"
        )
        print("best run:")
        print(f"simple-salesforce sf.bulk2.Opportunity.query (incl. job + polls): {best['generator']:>12,.0f} rows/s")
        print(f"simple-salesforce results download only:                         {best['download']:>12,.0f} rows/s")
        print(f"ceiling: same bytes, bare Starlette over TLS (requests):         {best['transport']:>12,.0f} rows/s")
        print(f"ceiling: same bytes from an in-memory buffer:                    {best['memory']:>12,.0f} rows/s")
        print(f"download / transport ceiling: {best['download'] / best['transport']:.2f}")
        print(f"generator / transport ceiling: {best['generator'] / best['transport']:.2f}")
        print(f"download / memory ceiling: {best['download'] / best['memory']:.4f}")
    finally:
        parent.send("stop")
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()


if __name__ == "__main__":
    main()
