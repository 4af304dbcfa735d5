"""Restarts against optimizer luck: the spread over seeds of each encoder's test accuracy on
MNIST pairs with 1 and 3 restarts (the best validation loss of R seeded initialisations;
``--restarts 1,3,5`` for more), all in one run. A single-seed collapse shows as a low minimum
and a large standard deviation.

    python benchmarks/bench_restarts.py --data-dir ../shared/data [--quick] [--restarts 1,3]

Prints a Markdown table (recorded in docs/training.md)."""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from qenc_bench.harness import CompareConfig, compare
from qenc_bench.training import TrainConfig

ENCODERS = ("angle", "amplitude", "atp", "pca", "sqe")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--quick", action="store_true", help="one pair, 3 seeds")
    parser.add_argument("--restarts", default="1,3", help="comma-separated restart counts (default 1,3)")
    parser.add_argument("--pairs", default=None, help="MNIST pairs, e.g. 0,1:2,8 (default 0,1:2,8:5,6)")
    args = parser.parse_args()
    pairs = [(0, 1)] if args.quick else [(0, 1), (2, 8), (5, 6)]
    if args.pairs:
        pairs = [tuple(int(c) for c in p.split(",")) for p in args.pairs.split(":")]
    seeds = 3 if args.quick else 5
    restarts = tuple(int(r) for r in args.restarts.split(","))
    print(f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {seeds} seeds, 400 train / 200 test, grid 3")
    rows: dict[tuple, dict[int, tuple]] = {}
    for pair in pairs:
        for r in restarts:
            started = time.perf_counter()
            with threadpool_limits(limits=1):
                result = compare(CompareConfig(encoders=ENCODERS, dataset="mnist", classes=pair, seeds=seeds,
                                               train_size=400, test_size=200, classical=(),
                                               training=TrainConfig(restarts=r), data_dir=args.data_dir))
            print(f"mnist {pair} restarts {r}: {time.perf_counter() - started:.0f} s", flush=True)
            for encoder in ENCODERS:
                acc = np.array([x.accuracy for x in result.records if x.encoder == encoder])
                seconds = np.mean([sum(x.timings.values()) for x in result.records if x.encoder == encoder])
                rows.setdefault((pair, encoder), {})[r] = (acc.mean(), acc.std(ddof=1), acc.min(), seconds)
    head = " | ".join(f"R={r}: mean ± sd (min), s/run" for r in restarts)
    print(f"\n| pair | encoder | {head} |\n|---|---|" + "---|" * len(restarts))
    for (pair, encoder), by_r in rows.items():
        cells = " | ".join(f"{100 * m:.1f} ± {100 * s:.1f} ({100 * lo:.1f}), {t:.1f}" for m, s, lo, t in
                           (by_r[r] for r in restarts))
        print(f"| mnist {pair[0]},{pair[1]} | {encoder} | {cells} |")


if __name__ == "__main__":
    main()
