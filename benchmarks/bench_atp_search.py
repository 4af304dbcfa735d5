"""ATP threshold search: exact breakpoints vs the paper's L-BFGS-B vs a grid vs warm starts.

For each MNIST pair and seed, every optimiser selects tau on the validation split under the
same training budget; the table reports the validation accuracy of the chosen mask, the test
accuracy, the number of trainings, and the wall time of ATP (fit + train) as a ratio to plain
angle encoding's training on the same split (the paper reports about 1.15).

    python benchmarks/bench_atp_search.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from qenc_bench.harness import CompareConfig, compare

OPTIMIZERS = ("exact", "lbfgsb", "grid", "warm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--pairs", default="0,1;2,8;5,6")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    pairs = [tuple(int(c) for c in p.split(",")) for p in args.pairs.split(";")]
    rows = {opt: {"val": [], "test": [], "trainings": [], "ratio": [], "qubits": []} for opt in OPTIMIZERS}
    started = time.perf_counter()
    with threadpool_limits(1):
        for pair in pairs:
            base = dict(dataset="mnist", classes=pair, seeds=args.seeds, data_dir=args.data_dir, backend="exact")
            angle = compare(CompareConfig(encoders=("angle",), **base))
            angle_time = {r.seed: sum(r.timings.values()) for r in angle.records}
            for opt in OPTIMIZERS:
                result = compare(CompareConfig(encoders=("atp",), encoder_options={"atp": {"optimizer": opt}}, **base))
                for r in result.records:
                    rows[opt]["val"].append(r.validation_accuracy)
                    rows[opt]["test"].append(r.accuracy)
                    rows[opt]["trainings"].append(r.encoder_info["trainings"])
                    rows[opt]["qubits"].append(r.n_qubits - 1)
                    rows[opt]["ratio"].append(sum(r.timings.values()) / angle_time[r.seed])
    print(f"MNIST pairs {args.pairs}, {args.seeds} seeds each, grid 3, train 400 / val 100 / test 200, "
          f"exact backend, 1 BLAS thread; {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{time.perf_counter() - started:.0f} s in all\n")
    print("| optimiser | validation acc. of chosen mask | test acc. | trainings per run | data qubits kept | "
          "cost / angle's |")
    print("|---|---|---|---|---|---|")
    for opt, r in rows.items():
        print(f"| {opt} | {np.mean(r['val']):.3f} ± {np.std(r['val']):.3f} | {np.mean(r['test']):.3f} | "
              f"{np.mean(r['trainings']):.1f} | {np.mean(r['qubits']):.1f} | {np.mean(r['ratio']):.2f}x |")
    exact, lbfgsb = np.array(rows["exact"]["val"]), np.array(rows["lbfgsb"]["val"])
    print(f"\nexact >= lbfgsb on validation in {np.sum(exact >= lbfgsb - 1e-12)}/{len(exact)} runs; "
          f"warm within 1 point of exact in {np.sum(np.array(rows['warm']['val']) >= exact - 0.01)}/{len(exact)} runs")


if __name__ == "__main__":
    main()
