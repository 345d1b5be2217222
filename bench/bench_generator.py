"""Sandbox data generation: time and peak memory per profile.

Each profile runs in a fresh child process so peak RSS is its own. The ceiling is measured in
the same child: unpickling the very dataset just generated, i.e. the fastest way Python can
materialise those exact records at all. Prints per profile: records, generate seconds (wall and
CPU), records/s, the ceiling's seconds, the ratio generate/ceiling, and peak RSS.

usage: .venv/bin/python bench/bench_generator.py [tiny small medium large] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 22)


def child(profile: str, seed: int) -> None:
    sys.path.insert(0, str(ROOT))
    from sandbox.generator import generate

    wall, cpu = time.perf_counter(), time.process_time()
    dataset = generate(profile, seed=seed, as_of=AS_OF)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    records = sum(map(len, dataset.salesforce.values())) + sum(map(len, dataset.qbo.values()))
    blob = pickle.dumps((dataset.salesforce, dataset.qbo, dataset.truth), protocol=pickle.HIGHEST_PROTOCOL)
    ceiling = time.perf_counter()
    pickle.loads(blob)
    ceiling = time.perf_counter() - ceiling
    print(json.dumps({
        "profile": profile, "records": records, "wall_s": wall, "cpu_s": cpu, "ceiling_s": ceiling,
        "peak_rss_mb": peak_mb, "truth_rows": len(dataset.truth.reconciliation),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profiles", nargs="*", default=["tiny", "small", "medium"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.seed)
        return
    print(f"{'profile':8} {'records':>10} {'gen wall s':>10} {'gen cpu s':>9} {'rec/s':>9} "
          f"{'ceiling s':>9} {'ratio':>6} {'peak RSS MB':>11}")
    for profile in args.profiles:
        out = subprocess.run(
            [sys.executable, __file__, "--child", profile, "--seed", str(args.seed)],
            capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        print(f"{r['profile']:8} {r['records']:>10,} {r['wall_s']:>10.1f} {r['cpu_s']:>9.1f} "
              f"{r['records'] / r['wall_s']:>9,.0f} {r['ceiling_s']:>9.2f} {r['wall_s'] / r['ceiling_s']:>6.1f} "
              f"{r['peak_rss_mb']:>11,.0f}")


if __name__ == "__main__":
    main()
