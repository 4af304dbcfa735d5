"""The trainability metric (gradient variance over random initialisations) against the number
of data qubits: angle encoding of the n highest-variance pixels, under the readout model and
the hardware-efficient ansatz (hea), through the harness's own metric path and engines.

For each n and model, every seed prepares its own split (digits 0/1 at grid 4: 16 pixels) and
computes the ``trainability`` metric (50 initialisations, a batch of 32 training samples, the
mean hinge loss; docs/metrics.md). The table prints the mean over seeds of the mean-over-
parameters variance, its range over seeds, and the metric's seconds (mean over seeds; the
first seed of each n includes the engine's compilation of a new circuit); the last lines fit
log10(variance) = a + b n per model (b: decades lost per added qubit).

    python benchmarks/bench_trainability.py            # the table in docs/metrics.md (~30 min on 2 loaded cores)
    python benchmarks/bench_trainability.py --qubits 2,4,6,8 --seeds 2 --models readout,hea:2
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from qenc_bench.harness import CompareConfig, Engines  # noqa: E402
from qenc_bench.harness.metrics import compute_metrics  # noqa: E402
from qenc_bench.plugins import load_registry  # noqa: E402
from qenc_bench.prepare import prepare  # noqa: E402


def model_of(registry, text: str):
    """``readout`` or ``hea:LAYERS`` (``hea`` alone: 2 layers)."""
    name, _, layers = text.partition(":")
    return registry.get("model", name).factory(layers=int(layers) if layers else (1 if name == "readout" else 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", default="2,4,6,8,10,12")
    parser.add_argument("--models", default="readout,hea:2,hea:8")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--initialisations", type=int, default=50)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    qubits = [int(q) for q in args.qubits.split(",")]

    registry = load_registry()
    metric = registry.get("metric", "trainability").factory(initialisations=args.initialisations, batch=args.batch)
    raw = registry.get("dataset", "digits").factory().load(None)
    backends = {e.spec.name: e.spec for e in registry.entries("backend")}
    angle = registry.get("encoder", "angle").factory
    started = time.perf_counter()
    rows = []
    fits = []
    for model_text in args.models.split(","):
        model = model_of(registry, model_text)
        engines = Engines(backends, CompareConfig(encoders=("angle",), model=model.name, layers=model.layers,
                                                  classical=()))
        means = []
        for n in qubits:
            values, seconds, engine = [], [], ""
            for seed in range(args.seeds):
                data = prepare(raw, (0, 1), grid=4, train_size=200, test_size=50, seed=seed)
                columns = np.argsort(-data.train.x.var(axis=0), kind="stable")[:n]
                encoder = angle(columns=columns).fit(data.train, data.validation)
                circuit = model.build(encoder)
                with threadpool_limits(limits=1):
                    found = compute_metrics({"trainability": metric}, encoder, circuit, model, data, engines, seed)
                entry = found["trainability"]
                if "value" not in entry:
                    raise SystemExit(f"{model.label} n={n}: {entry['skipped']}")
                values.append(entry["value"])
                seconds.append(entry["seconds"])
                engine = engines.training(circuit).name
            means.append(float(np.mean(values)))
            print(f"{model.label} n={n}: {means[-1]:.3e} ({time.perf_counter() - started:.0f} s)", file=sys.stderr,
                  flush=True)
            rows.append((model.label, n, circuit.n_weights, engine, float(np.mean(values)), min(values), max(values),
                         float(np.mean(seconds))))
        slope, intercept = np.polyfit(qubits, np.log10(means), 1)
        fits.append((model.label, slope, intercept))

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"trainability vs data qubits: angle encoding of the n highest-variance pixels of digits 0/1 at grid 4, "
          f"{args.seeds} seeds, {args.initialisations} initialisations, batch {args.batch}, mean hinge loss; "
          f"{platform.processor() or platform.machine()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"{time.perf_counter() - started:.0f} s in all")
    print()
    print("| model | data qubits | weights | engine | gradient variance (mean over seeds) | seed range | s per seed |")
    print("|---|---:|---:|---|---:|---|---:|")
    for label, n, weights, engine, mean, low, high, sec in rows:
        print(f"| {label} | {n} | {weights} | {engine} | {mean:.3e} | [{low:.2e}, {high:.2e}] | {sec:.2f} |")
    print()
    for label, slope, intercept in fits:
        print(f"- {label}: log10(variance) = {intercept:.2f} {slope:+.3f} n  "
              f"(x{10**slope:.2f} per added qubit)")


if __name__ == "__main__":
    main()
