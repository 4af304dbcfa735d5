"""Time per sample of the readout model with angle encoding on the exact, pennylane and aer
backends: a forward pass, and a forward pass plus the weight gradient (what training asks).

Run: ``python benchmarks/bench_backends.py [--batch 200] [--repeats 3]``. Each backend is
built directly from its plugin class; each case is warmed up once on a batch of 2 (circuit
translation, QNode construction), then timed as the best of ``--repeats`` runs (a case whose
first run takes over ``REPEAT_BUDGET`` seconds runs once).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qenc_aer.backend import AerBackend
from qenc_bench import Split
from qenc_bench.model import ReadoutModel
from qenc_encoders.angle import AngleEncoder
from qenc_exact import ExactReadoutBackend
from qenc_pennylane.backend import PennyLaneBackend

REPEAT_BUDGET = 10.0
BACKENDS = {"exact": ExactReadoutBackend, "pennylane": PennyLaneBackend, "aer": AerBackend}


def readout_angle_circuit(n_data: int, rng: np.random.Generator):
    x = rng.uniform(0.0, 1.0, size=(8, n_data))
    split = Split(x, np.arange(8) % 2)
    encoder = AngleEncoder().fit(split, split)
    return ReadoutModel().build(encoder), encoder


def best_time(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        if times[0] > REPEAT_BUDGET:
            break
    return min(times)


def bench(n_data: int, batch: int, repeats: int) -> list[tuple[str, int, float, float]]:
    rng = np.random.default_rng(0)
    circuit, encoder = readout_angle_circuit(n_data, rng)
    features = encoder.transform(rng.uniform(0.0, 1.0, size=(batch, n_data)))
    weights = ReadoutModel().init_weights(circuit, rng)
    cotangent = rng.normal(size=batch)
    rows = []
    for name, cls in BACKENDS.items():
        backend = cls()

        def forward(f=features, backend=backend):
            return backend.expval(circuit, f, weights)

        def forward_gradient(f=features, c=cotangent, backend=backend):
            values, vjp = backend.expval_vjp(circuit, f, weights)
            return values, vjp(c[: len(f)])

        forward(features[:2])
        forward_gradient(features[:2])
        t_forward = best_time(forward, repeats) / batch
        t_gradient = best_time(forward_gradient, repeats) / batch
        rows.append((name, circuit.n_qubits, t_forward, t_gradient))
        print(f"  done: {name} at {circuit.n_qubits} qubits", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-qubits", type=int, nargs="+", default=[9, 16])
    args = parser.parse_args()
    rows = []
    for n_data in args.data_qubits:
        rows += bench(n_data, args.batch, args.repeats)
    print(f"\nreadout model, angle encoding, batch {args.batch}, best of {args.repeats} "
          f"(one run when over {REPEAT_BUDGET:g} s); time per sample")
    print("| backend   | qubits | forward (ms) | forward + weight gradient (ms) |")
    print("|-----------|-------:|-------------:|-------------------------------:|")
    for name, qubits, t_f, t_g in rows:
        print(f"| {name:<9} | {qubits:>6} | {1e3 * t_f:>12.4f} | {1e3 * t_g:>30.4f} |")


if __name__ == "__main__":
    main()
