"""Peak memory of one batched call of the readout model (angle encoding) at 17 qubits, batch 1000:
a forward pass, and a forward pass plus the weight gradient, on exact, pennylane and aer.

Each case runs in a fresh subprocess (one BLAS thread, an address-space limit of
``--limit-gib`` so that a case that would exhaust the machine fails with MemoryError instead);
the child reports ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (peak resident set size, which
counts native allocations of Aer and numpy, unlike tracemalloc) once after building the
circuit and data (baseline) and once after the call. Prints Markdown.

    python benchmarks/bench_memory.py [--qubits 17] [--batch 1000] [--limit-gib 12]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CASES = [(b, m) for b in ("exact", "pennylane", "aer") for m in ("forward", "gradient")]
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

CHILD = r"""
import json, resource, sys, time
limit = int(sys.argv[4]) * 2**30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import numpy as np
from threadpoolctl import threadpool_limits
sys.path.insert(0, sys.argv[5])
from bench_backends import readout_angle_circuit, BACKENDS
from qenc_bench.model import ReadoutModel
backend_name, mode, n_data, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]) - 1, int(sys.argv[6])
rng = np.random.default_rng(0)
circuit, encoder = readout_angle_circuit(n_data, rng)
features = encoder.transform(rng.uniform(0.0, 1.0, size=(batch, n_data)))
weights = ReadoutModel().init_weights(circuit, rng)
backend = BACKENDS[backend_name]()
kib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
with threadpool_limits(1):
    backend.expval(circuit, features[:2], weights)  # imports, translation, QNode: not the batch's cost
    out["baseline_kib"] = kib()
    start = time.perf_counter()
    try:
        if mode == "forward":
            backend.expval(circuit, features, weights)
        else:
            values, vjp = backend.expval_vjp(circuit, features, weights)
            vjp(np.ones(batch) / batch)
        out["error"] = None
    except MemoryError as exc:
        out["error"] = "MemoryError (address-space limit)"
    out["seconds"] = time.perf_counter() - start
    out["peak_kib"] = kib()
print(json.dumps(out))
"""


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qubits", type=int, default=17)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--limit-gib", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per case")
    parser.add_argument("--cases", default="", help="e.g. pennylane:gradient,aer:forward (default: all)")
    args = parser.parse_args()
    cases = [tuple(c.split(":")) for c in args.cases.split(",")] if args.cases else CASES
    here = str(Path(__file__).resolve().parent)
    la = "/".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"Machine: {machine()}; load average at start {la}. Readout model, angle encoding, "
          f"{args.qubits} qubits, batch {args.batch}; peak RSS (ru_maxrss) of a fresh subprocess per case, "
          f"address space limited to {args.limit_gib} GiB.\n")
    print("| backend | call | peak RSS (MiB) | over baseline (MiB) | seconds | note |")
    print("|---|---|---:|---:|---:|---|")
    for backend, mode in cases:
        call = "forward" if mode == "forward" else "forward + weight gradient"
        cmd = [sys.executable, "-c", CHILD, backend, mode, str(args.qubits), str(args.limit_gib), here,
               str(args.batch)]
        try:
            proc = subprocess.run(cmd, env=os.environ | ONE_THREAD, capture_output=True, text=True,
                                  timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"| {backend} | {call} | | | > {args.timeout:.0f} | timed out |", flush=True)
            continue
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or ["?"])[-1][:120]
            print(f"| {backend} | {call} | | | | failed: {tail} |", flush=True)
            continue
        r = json.loads(lines[-1])
        print(f"| {backend} | {call} | "
              f"{r['peak_kib'] / 1024:.0f} | {(r['peak_kib'] - r['baseline_kib']) / 1024:.0f} | "
              f"{r['seconds']:.2f} | {r['error'] or ''} |", flush=True)
    print(f"\nLoad average at end: {'/'.join(f'{v:.2f}' for v in os.getloadavg())}.")


if __name__ == "__main__":
    main()
