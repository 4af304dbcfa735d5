"""The ``jax`` backend at an earlier commit against the working tree, side by side in one
process: ms per sample, forward and forward+VJP, best of 3 after a warm-up.

The earlier commit's plugin is read with ``git show REV:plugins/qenc_jax/...`` into a
temporary package ``qenc_jax_before``, so both versions run on the same inputs in the same
process at the same moment (this machine is shared: timings from separate runs do not
compare). Pin it to one core: ``taskset -c 1 python benchmarks/bench_jax_before_after.py``.

Run: ``python benchmarks/bench_jax_before_after.py [--before REV] [--rows 200]``; the default
REV is the commit before the numbers were compiled apart from the state passes
(docs/engines.md, "Compile cache").
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from qenc_bench import Split  # noqa: E402
from qenc_bench.model import ReadoutModel  # noqa: E402
from qenc_encoders.amplitude import AmplitudeEncoder  # noqa: E402
from qenc_encoders.angle import AngleEncoder  # noqa: E402
from qenc_encoders.iqp import IQPEncoder  # noqa: E402
from qenc_models import HardwareEfficientModel, ReuploadingModel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("__init__", "backend", "capabilities", "kernels", "numbers", "plan")
CASES = [
    ("readout-angle", ReadoutModel(), AngleEncoder, 9),
    ("readout-iqp", ReadoutModel(), IQPEncoder, 9),
    ("hea-angle", HardwareEfficientModel(layers=2), AngleEncoder, 8),
    ("hea-angle", HardwareEfficientModel(layers=2), AngleEncoder, 10),
    ("hea-angle", HardwareEfficientModel(layers=2), AngleEncoder, 12),
    ("hea-amplitude", HardwareEfficientModel(layers=2), AmplitudeEncoder, 256),
    ("hea-amplitude", HardwareEfficientModel(layers=2), AmplitudeEncoder, 1024),
    ("reuploading-amplitude", ReuploadingModel(layers=2), AmplitudeEncoder, 1024),
]


def backend_at(rev: str, scratch: Path):
    """The jax backend class as of ``rev``."""
    package = scratch / "qenc_jax_before"
    package.mkdir()
    for module in MODULES:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:plugins/qenc_jax/{module}.py"],
                                capture_output=True, text=True, check=True).stdout
        (package / f"{module}.py").write_text(source)
    sys.path.insert(0, str(scratch))
    from qenc_jax_before.backend import JaxBackend

    return JaxBackend


def case(model, encoder_cls, width: int, rows: int):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (rows, width))
    y = np.arange(rows) % 2
    encoder = encoder_cls()
    encoder.fit(Split(x, y), Split(x, y), None)
    circuit = model.build(encoder)
    return circuit, encoder.transform(x), rng.uniform(-3, 3, circuit.n_weights)


def run(backend, measure: str, circuit, features, weights):
    if measure == "forward":
        return backend.expval(circuit, features, weights)
    return backend.expval_vjp(circuit, features, weights)[1](np.ones(len(features)))


def best_ms_per_sample(call, rows: int) -> float:
    call()  # compile
    times = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) / rows * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="053d443", help="the earlier commit (default 053d443)")
    parser.add_argument("--rows", type=int, default=200)
    args = parser.parse_args()
    from qenc_jax.backend import JaxBackend

    with tempfile.TemporaryDirectory() as scratch:
        backends = {"before": backend_at(args.before, Path(scratch))(), "after": JaxBackend()}
        print(f"load average {os.getloadavg()[0]:.2f} before; pinned to core(s) {sorted(os.sched_getaffinity(0))}")
        print("| circuit | qubits | measure | before | after | speed-up |")
        print("|---|---|---|---:|---:|---:|")
        for name, model, encoder, width in CASES:
            circuit, features, weights = case(model, encoder, width, args.rows)
            for measure in ("forward", "forward+VJP"):
                best = {label: best_ms_per_sample(partial(run, backend, measure, circuit, features, weights),
                                                  len(features)) for label, backend in backends.items()}
                print(f"| {name} | {circuit.n_qubits} | {measure} | {best['before']:.3g} | {best['after']:.3g} "
                      f"| {best['before'] / best['after']:.2f}x |", flush=True)
        print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
