"""ATP threshold search: exact breakpoints vs the paper's L-BFGS-B vs a grid vs warm starts vs
joint training of every candidate in one vectorised loop.

For each MNIST pair and seed, every optimiser selects tau on the validation split under the
same training budget; the table reports the validation accuracy of the chosen mask, the test
accuracy, the number of trainings, and the wall time of ATP (fit + train) as a ratio to plain
angle encoding's training on the same split (the paper reports about 1.15). A second table
compares every run with the exhaustive search (``exact``): validation accuracy of each
optimiser's choice (and whether it kept the same pixels), its cost, and how many runs are within one point of ``exact``.

    python benchmarks/bench_atp_search.py --data-dir ../shared/data
    python benchmarks/bench_atp_search.py --optimizers exact,joint
    python benchmarks/bench_atp_search.py --model hea --layers 2 --backend jax --optimizers exact,warm,joint

On the readout model ``joint`` trains every candidate in the closed form; on other models
(``--model hea``) in the engine loop, one lock-step loop over every candidate's trainings on
the training backend.
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

OPTIMIZERS = ("exact", "lbfgsb", "grid", "warm", "joint")


def timed(configs: dict[str, CompareConfig], repeats: int) -> dict:
    """Each comparison's result and, per seed, its fastest wall time (fit + train + evaluate)
    over ``repeats`` rounds; a round runs every comparison once, so that all are timed under
    similar load (the results themselves are deterministic)."""
    out: dict = {}
    for _ in range(max(1, repeats)):
        for name, config in configs.items():
            result = compare(config)
            seconds = out.get(name, (None, {}))[1]
            for r in result.records:
                seconds[r.seed] = min(seconds.get(r.seed, np.inf), sum(r.timings.values()))
            out[name] = (result, seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--pairs", default="0,1;2,8;5,6")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1,
                        help="time every comparison this many times (interleaved) and keep each run's fastest")
    parser.add_argument("--model", default="readout", help="the model around the encoders (readout, hea, reuploading)")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--backend", default="exact", help="the backend that trains and evaluates every model")
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS),
                        help="comma-separated; exact is always run (the per-run comparison's reference)")
    args = parser.parse_args()
    pairs = [tuple(int(c) for c in p.split(",")) for p in args.pairs.split(";")]
    optimizers = ["exact"] + [o for o in args.optimizers.split(",") if o and o != "exact"]
    rows = {opt: {"val": [], "test": [], "trainings": [], "ratio": [], "qubits": [], "mask": []} for opt in optimizers}
    runs = []  # (pair, seed, angle seconds)
    started = time.perf_counter()
    with threadpool_limits(1):
        for pair in pairs:
            base = dict(dataset="mnist", classes=pair, seeds=args.seeds, data_dir=args.data_dir, backend=args.backend,
                        train_backend=args.backend, model=args.model, layers=args.layers, classical=())
            configs = {"angle": CompareConfig(encoders=("angle",), **base)}
            configs |= {opt: CompareConfig(encoders=("atp",), encoder_options={"atp": {"optimizer": opt}}, **base)
                        for opt in optimizers}
            timings = timed(configs, args.repeats)
            angle, angle_time = timings["angle"]
            runs += [(pair, r.seed, angle_time[r.seed]) for r in angle.records]
            for opt in optimizers:
                result, seconds = timings[opt]
                for r in result.records:
                    rows[opt]["val"].append(r.validation_accuracy)
                    rows[opt]["test"].append(r.accuracy)
                    rows[opt]["trainings"].append(r.encoder_info["trainings"])
                    rows[opt]["qubits"].append(len(r.encoder_info["kept_pixels"]))
                    rows[opt]["ratio"].append(seconds[r.seed] / angle_time[r.seed])
                    rows[opt]["mask"].append(r.encoder_info["kept_pixels"])
    print(f"MNIST pairs {args.pairs}, {args.seeds} seeds each, grid 3, train 400 / val 100 / test 200, "
          f"{args.model} model ({args.layers} layer(s)) on {args.backend}, 1 BLAS thread; {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"fastest of {args.repeats} timing(s) per run; {time.perf_counter() - started:.0f} s in all\n")
    exact = np.array(rows["exact"]["val"])
    print("| optimiser | validation acc. of chosen mask | test acc. | trainings per run | data qubits kept | "
          "cost / angle's (mean, max) | runs within 1 point of exact |")
    print("|---|---|---|---|---|---|---|")
    for opt, r in rows.items():
        within = int(np.sum(np.array(r["val"]) >= exact - 0.01 - 1e-12))
        print(f"| {opt} | {np.mean(r['val']):.3f} ± {np.std(r['val']):.3f} | {np.mean(r['test']):.3f} | "
              f"{np.mean(r['trainings']):.1f} | {np.mean(r['qubits']):.1f} | {np.mean(r['ratio']):.2f}x, "
              f"{np.max(r['ratio']):.2f}x | {within}/{len(exact)} |")
    others = [o for o in optimizers if o != "exact"]
    print("\nPer run: validation accuracy of each optimiser's choice (difference to exact) and its cost / angle's.\n")
    print("| pair | seed | angle (s) | exact | " + " | ".join(others) + " |")
    print("|---|---|---|---|" + "---|" * len(others))
    for i, (pair, seed, seconds) in enumerate(runs):
        cells = [f"{rows['exact']['val'][i]:.2f} ({rows['exact']['ratio'][i]:.2f}x)"]
        for opt in others:
            diff = rows[opt]["val"][i] - exact[i]
            same = ", same mask" if rows[opt]["mask"][i] == rows["exact"]["mask"][i] else ""
            cells.append(f"{rows[opt]['val'][i]:.2f} ({diff:+.2f}{same}; {rows[opt]['ratio'][i]:.2f}x)")
        print(f"| {pair[0]},{pair[1]} | {seed} | {seconds:.3f} | " + " | ".join(cells) + " |")
    print()
    if "lbfgsb" in rows:
        print(f"exact >= lbfgsb on validation in {np.sum(exact >= np.array(rows['lbfgsb']['val']) - 1e-12)}/"
              f"{len(exact)} runs")
    for opt in others:
        within = int(np.sum(np.array(rows[opt]["val"]) >= exact - 0.01 - 1e-12))
        print(f"{opt}: within 1 point of exact in {within}/{len(exact)} runs; cost / angle's "
              f"mean {np.mean(rows[opt]['ratio']):.2f}x, max {np.max(rows[opt]['ratio']):.2f}x")

if __name__ == "__main__":
    main()
