"""Customer matching: accuracy on the generator's ground truth, blocking, wall time and peak memory.

    .venv/bin/python bench/bench_matching.py                   # medium and large, seed 1
    .venv/bin/python bench/bench_matching.py --profiles medium --sweep
    .venv/bin/python bench/bench_matching.py --synthetic 100000  # when no large profile exists

For each profile the matcher runs in a child process (so its peak memory is its own, not the
generator's) over Salesforce Accounts and QBO Customers: duplicates in each system, then links.
Figures:

* pair precision / recall of auto-links, and of auto-links plus review pairs, with existing
  cross-references withheld (the matcher alone) and given (what the pipeline does). An account
  links to one customer; when QBO holds the company twice, the link stands for the customer's
  duplicate cluster, so "expanded" pairs count the link to every member of that cluster.
* account recall: accounts with a true customer that got a right one.
* cluster precision: predicted duplicate clusters whose members are all one real company.
* blocking: pairs compared against the full cross product, and the true pairs blocking kept.
* wall time and peak RSS of the matching, as ratios to the targets (60 s, 2 GB) and to a
  ceiling measured in the same run: scoring the full cross product at the measured pair rate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0
TARGET_BYTES = 2 * 1024**3


# --- child: the matcher alone ------------------------------------------------------------------

def peak_rss() -> int:
    """This process's peak resident set (VmHWM), in bytes. Not ru_maxrss: Linux keeps that across
    exec, so a child would report its parent's peak (the generated dataset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(workdir: Path, auto: float, review: float, with_existing: bool) -> None:
    import numpy as np

    from ledgerlink.matching import engine
    from ledgerlink.matching.blocking import candidate_pairs
    from ledgerlink.matching.config import MatchConfig
    from ledgerlink.matching.records import prepare
    from ledgerlink.matching.scoring import score_pairs

    sf = pl.read_parquet(workdir / "sf.parquet")
    qb = pl.read_parquet(workdir / "qb.parquet")
    config = MatchConfig(auto_link_threshold=auto, review_threshold=review)
    rss_inputs = peak_rss()

    started = time.perf_counter()
    lp, rp = prepare(sf), prepare(qb)
    t_prepare = time.perf_counter() - started
    dl = engine.dedupe(lp, config)
    dr = engine.dedupe(rp, config)
    t_dedupe = time.perf_counter() - started - t_prepare
    existing = {a: b for a, b in sf.select("id", "qbo_customer_id").iter_rows() if b} if with_existing else None
    linked = engine.link(lp, rp, config, existing=existing, left_clusters=dl.clusters, right_clusters=dr.clusters)
    wall = time.perf_counter() - started
    peak = peak_rss()

    # Ceiling, same run: the pair rate of scoring random pairs, extrapolated to all pairs.
    rng = np.random.default_rng(0)
    n = 200_000
    sample = pl.DataFrame({"li": rng.integers(0, lp.height, n, dtype=np.uint32),
                           "ri": rng.integers(0, rp.height, n, dtype=np.uint32)})
    t0 = time.perf_counter()
    score_pairs(lp, rp, sample, config.scoring)
    blocking_t0 = time.perf_counter()
    candidate_pairs(lp, rp, config.max_block_pairs)
    blocking_seconds = time.perf_counter() - blocking_t0
    rate = n / (blocking_t0 - t0)

    linked.links.select("left_id", "right_id", "method", "score").write_parquet(workdir / "links.parquet")
    linked.review.select("left_id", "right_id", "score").write_parquet(workdir / "review.parquet")
    linked.scored.select("left_id", "right_id", "score").write_parquet(workdir / "scored.parquet")
    dl.clusters.write_parquet(workdir / "sf_clusters.parquet")
    dr.clusters.write_parquet(workdir / "qb_clusters.parquet")
    dl.scored.select("left_id", "right_id", "score").write_parquet(workdir / "sf_scored.parquet")
    dr.scored.select("left_id", "right_id", "score").write_parquet(workdir / "qb_scored.parquet")
    (workdir / "timing.json").write_text(json.dumps({
        "wall": wall, "prepare": t_prepare, "dedupe": t_dedupe, "link": wall - t_prepare - t_dedupe,
        "peak_rss": peak, "rss_inputs": rss_inputs, "pair_rate": rate, "blocking_seconds": blocking_seconds,
        "blocking": {"link": linked.stats.__dict__, "sf": dl.stats.__dict__, "qb": dr.stats.__dict__},
    }))


# --- parent: data, truth, figures --------------------------------------------------------------

def _pairs(rows) -> set[tuple[str, str]]:
    return {(a, b) for a, b in rows}


def _cluster_members(clusters: pl.DataFrame) -> tuple[dict[str, str], dict[str, list[str]]]:
    of = dict(clusters.select("record_id", "cluster_id").iter_rows())
    members: dict[str, list[str]] = {}
    for record, cluster in of.items():
        members.setdefault(cluster, []).append(record)
    return of, members


def _pr(predicted: set, truth: set) -> tuple[float, float]:
    tp = len(predicted & truth)
    return (tp / len(predicted) if predicted else 1.0), (tp / len(truth) if truth else 1.0)


def _dup_truth(clusters: list[list[str]], live: set[str]) -> set[tuple[str, str]]:
    pairs = set()
    for cluster in clusters:
        ids = sorted(i for i in cluster if i in live)
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    return pairs


def evaluate(workdir: Path, truth_links: set, sf_dups: list, qb_dups: list, sf_ids: set, qb_ids: set) -> dict:
    links = pl.read_parquet(workdir / "links.parquet")
    review = pl.read_parquet(workdir / "review.parquet")
    scored = pl.read_parquet(workdir / "scored.parquet")
    qb_of, qb_members = _cluster_members(pl.read_parquet(workdir / "qb_clusters.parquet"))
    sf_clusters = pl.read_parquet(workdir / "sf_clusters.parquet")
    qb_clusters = pl.read_parquet(workdir / "qb_clusters.parquet")
    truth = {(a, b) for a, b in truth_links if a in sf_ids and b in qb_ids}

    def expand(pairs: set) -> set:
        out = set(pairs)
        for a, b in pairs:
            out.update((a, m) for m in qb_members.get(qb_of.get(b), []))
        return out

    auto = _pairs(links.select("left_id", "right_id").iter_rows())
    rev = _pairs(review.select("left_id", "right_id").iter_rows())
    true_customers: dict[str, set] = {}
    for a, b in truth:
        true_customers.setdefault(a, set()).add(b)
    got = dict(links.select("left_id", "right_id").iter_rows())
    account_recall = sum(1 for a, bs in true_customers.items() if got.get(a) in bs) / max(len(true_customers), 1)
    compared = _pairs(scored.select("left_id", "right_id").iter_rows())

    def cluster_precision(clusters: pl.DataFrame, truth_clusters: list[list[str]]) -> tuple[float, int]:
        company = {m: i for i, c in enumerate(truth_clusters) for m in c}
        groups = clusters.group_by("cluster_id").agg(pl.col("record_id"))["record_id"].to_list()
        pure = sum(1 for g in groups if len({company.get(m, m) for m in g}) == 1)
        return (pure / len(groups) if groups else 1.0), len(groups)

    def cluster_pairs(clusters: pl.DataFrame) -> set:
        _, members = _cluster_members(clusters)
        out = set()
        for ids in members.values():
            ids = sorted(ids)
            out.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
        return out

    sf_cp, sf_n = cluster_precision(sf_clusters, sf_dups)
    qb_cp, qb_n = cluster_precision(qb_clusters, qb_dups)
    sf_truth, qb_truth = _dup_truth(sf_dups, sf_ids), _dup_truth(qb_dups, qb_ids)
    return {
        "true_links": len(truth),
        "auto": {"raw": _pr(auto, truth), "expanded": _pr(expand(auto), truth)},
        "auto_plus_review": {"raw": _pr(auto | rev, truth), "expanded": _pr(expand(auto) | rev, truth)},
        "account_recall": account_recall,
        "methods": dict(links.group_by("method").len().iter_rows()),
        "review_pairs": review.height,
        "blocking_recall": len(compared & truth) / max(len(truth), 1),
        "clusters": {
            "salesforce": {"precision": sf_cp, "clusters": sf_n, "true_clusters": len(sf_dups),
                           "pair_pr": _pr(cluster_pairs(sf_clusters), sf_truth)},
            "qbo": {"precision": qb_cp, "clusters": qb_n, "true_clusters": len(qb_dups),
                    "pair_pr": _pr(cluster_pairs(qb_clusters), qb_truth)},
        },
        "least_certain_auto": links.filter(pl.col("method") == "auto")["score"].min(),
    }


def run_child(workdir: Path, auto: float, review: float, with_existing: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(workdir), "--auto", str(auto), "--review", str(review)]
    if with_existing:
        cmd.append("--with-existing")
    subprocess.run(cmd, check=True, cwd=ROOT)
    return json.loads((workdir / "timing.json").read_text())


def generator_inputs(profile: str, seed: int):
    from ledgerlink.matching import sources
    from sandbox.generator import generate

    t0 = time.perf_counter()
    dataset = generate(profile, seed=seed)
    seconds = time.perf_counter() - t0
    sf = sources.sf_accounts_from_dataset(dataset)
    qb = sources.qb_customers_from_dataset(dataset)
    truth = dataset.truth
    return sf, qb, set(truth.customer_links), truth.sf_duplicate_clusters, truth.qb_duplicate_clusters, seconds


def synthetic_inputs(n: int, seed: int):
    from tests.matching.synthetic import generate_pairs

    t0 = time.perf_counter()
    data = generate_pairs(n, seed=seed)
    seconds = time.perf_counter() - t0
    sf = pl.DataFrame(data.left).with_columns(qbo_customer_id=pl.lit(None, pl.String))
    qb = pl.DataFrame(data.right)
    return sf, qb, data.links, data.left_clusters, data.right_clusters, seconds


def fmt(pr: tuple[float, float]) -> str:
    return f"P {pr[0]:.4f} R {pr[1]:.4f}"


def report(name: str, timing: dict, figures: dict, existing_figures: dict | None) -> None:
    gib = 1024**3
    ceiling = timing["blocking"]["link"]["full_pairs"] / timing["pair_rate"]
    print(f"\n== {name}")
    b = timing["blocking"]
    for label, stats in b.items():
        print(f"  blocking {label:4}: compared {stats['candidate_pairs']:>12,} of {stats['full_pairs']:>16,} pairs "
              f"({stats['candidate_pairs'] / max(stats['full_pairs'], 1):.5%})")
    print(f"  blocking recall (true links compared): {figures['blocking_recall']:.4f}")
    print(f"  matcher alone (existing xrefs withheld), {figures['true_links']} true links:")
    print(f"    auto-links          raw {fmt(figures['auto']['raw'])} | expanded {fmt(figures['auto']['expanded'])}")
    print(f"    auto-links + review raw {fmt(figures['auto_plus_review']['raw'])} | expanded "
          f"{fmt(figures['auto_plus_review']['expanded'])}")
    print(f"    account recall {figures['account_recall']:.4f}; methods {figures['methods']}; review pairs "
          f"{figures['review_pairs']}; least certain auto-link {figures['least_certain_auto']}")
    if existing_figures:
        print(f"  with existing xrefs: auto expanded {fmt(existing_figures['auto']['expanded'])}, account recall "
              f"{existing_figures['account_recall']:.4f}, methods {existing_figures['methods']}")
    for system, c in figures["clusters"].items():
        print(f"  {system} duplicate clusters: {c['clusters']} found / {c['true_clusters']} true, cluster precision "
              f"{c['precision']:.4f}, pair {fmt(c['pair_pr'])}")
    print(f"  wall {timing['wall']:.1f}s (prepare {timing['prepare']:.1f}, dedupe both {timing['dedupe']:.1f}, link "
          f"{timing['link']:.1f}) = {timing['wall'] / TARGET_SECONDS:.2f} x the 60 s target; "
          f"{timing['wall'] / ceiling:.5f} x the full-cross-product ceiling ({ceiling:,.0f} s at "
          f"{timing['pair_rate']:,.0f} pairs/s measured in this run)")
    print(f"  peak RSS {timing['peak_rss'] / gib:.2f} GiB (inputs loaded: {timing['rss_inputs'] / gib:.2f} GiB) = "
          f"{timing['peak_rss'] / TARGET_BYTES:.2f} x the 2 GB target")
    print(f"  machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", nargs="*", default=["medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synthetic", type=int, default=0, help="also run an N x N synthetic set")
    parser.add_argument("--sweep", action="store_true", help="precision/recall across auto-link thresholds")
    parser.add_argument("--auto", type=float, default=None)
    parser.add_argument("--review", type=float, default=None)
    parser.add_argument("--child", type=Path, default=None)
    parser.add_argument("--with-existing", action="store_true")
    args = parser.parse_args()
    from ledgerlink.matching.config import DEFAULT_AUTO_LINK, DEFAULT_REVIEW

    auto = DEFAULT_AUTO_LINK if args.auto is None else args.auto
    review = DEFAULT_REVIEW if args.review is None else args.review
    if args.child:
        child(args.child, auto, review, args.with_existing)
        return

    runs = [(p, lambda p=p: generator_inputs(p, args.seed)) for p in args.profiles]
    if args.synthetic:
        runs.append((f"synthetic {args.synthetic}", lambda: synthetic_inputs(args.synthetic, args.seed)))
    print(f"auto-link threshold {auto}, review threshold {review}")
    for name, make in runs:
        sf, qb, truth, sf_dups, qb_dups, gen_seconds = make()
        print(f"\n{name}: {sf.height} accounts, {qb.height} customers, {len(truth)} true links "
              f"(generated in {gen_seconds:.0f}s, not counted)")
        sf_ids, qb_ids = set(sf["id"]), set(qb["id"])
        with tempfile.TemporaryDirectory(prefix="benchmatch") as tmp:
            workdir = Path(tmp)
            sf.write_parquet(workdir / "sf.parquet")
            qb.write_parquet(workdir / "qb.parquet")
            timing = run_child(workdir, auto, review, with_existing=False)
            figures = evaluate(workdir, truth, sf_dups, qb_dups, sf_ids, qb_ids)
            existing_figures = None
            if sf["qbo_customer_id"].is_not_null().any():
                run_child(workdir, auto, review, with_existing=True)
                existing_figures = evaluate(workdir, truth, sf_dups, qb_dups, sf_ids, qb_ids)
            report(name, timing, figures, existing_figures)
            if args.sweep:
                print("  sweep (matcher alone): auto-link threshold -> auto-links expanded P/R")
                for threshold in (0.80, 0.85, 0.88, 0.90, 0.92, 0.95):
                    run_child(workdir, threshold, min(review, threshold), with_existing=False)
                    f = evaluate(workdir, truth, sf_dups, qb_dups, sf_ids, qb_ids)
                    print(f"    {threshold:.2f}: {fmt(f['auto']['expanded'])}; SF clusters precision "
                          f"{f['clusters']['salesforce']['precision']:.4f}, QBO {f['clusters']['qbo']['precision']:.4f}")


if __name__ == "__main__":
    main()
