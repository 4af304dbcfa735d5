"""Where the time of a fake-device evaluation goes, before and after the fast path.

The case: the readout model with angle encoding of 9 features (10 qubits), the encoder fit on
40 random samples, ``expval`` on ``--rows`` test rows at 1000 shots: what
``qenc-bench compare --encoders angle --backend ibm --device FakeFez --shots 1000 --seeds 1
--train-size 40 --test-size 20`` evaluates on the device.

- **before**: what the backend did before issue 17: Qiskit's ``BackendEstimatorV2`` on the
  fake device (what the runtime's local testing mode runs), the device's full noise model
  handed to Aer, Aer's automatic method, on the old backend's layout (one transpiler run,
  seed 0) and, to separate the two effects, on the new layout;
- **after**: ``IBMBackend.expval``: the circuit cut to the qubits it touches, the noise model
  on those qubits only, the method chosen by size, one Aer run for the batch.

Also timed: the parts (the full noise model, one run's overhead with it, transpilation, the
density matrix against statevector trajectories on the cut circuit). Wall time and the
process's CPU time (all threads) are printed with the load average: on a shared machine the
wall time is inflated by other work.

Run: ``python benchmarks/bench_ibm_fake.py [--devices FakeFez,FakeSherbrooke] [--rows 20]
[--baseline-rows 20]`` (``--baseline-rows 0`` skips the slow "before" runs).
"""

from __future__ import annotations

import argparse
import math
import os
import time
import warnings

import numpy as np

from qenc_bench import ReadoutModel, Split
from qenc_encoders.angle import AngleEncoder
from qenc_ibm.backend import IBMBackend
from qenc_ibm.fake import fake_device, noise_model_on, run_compact

SHOTS = 1000


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def case(rows: int):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, (40, 9))
    split = Split(x, (x[:, 0] > 0.5).astype(int))
    encoder = AngleEncoder().fit(split, split)
    circuit = ReadoutModel().build(encoder)
    weights = ReadoutModel().init_weights(circuit, rng)
    return circuit, encoder.transform(rng.uniform(0.0, 1.0, (rows, 9))), weights


def old_layout(device_name: str, circuit, features: np.ndarray, weights: np.ndarray):
    """The old backend's transpilation: one preset pass manager run, transpiler seed 0 (what
    ``--backend-option seed=0`` gave; without a seed the layout was random)."""
    from qiskit.transpiler import generate_preset_pass_manager

    from qenc_aer.translate import to_qiskit

    source = to_qiskit(circuit)
    isa = generate_preset_pass_manager(backend=fake_device(device_name), optimization_level=1,
                                       seed_transpiler=0).run(source.circuit)
    position = {p: k for k, p in enumerate(source.circuit.parameters)}
    columns = np.array([position[p] for p in isa.parameters], dtype=int)
    touched = len({isa.find_bit(q).index for instruction in isa.data for q in instruction.qubits})
    return isa, source.observable.apply_layout(isa.layout), source.angles(features, weights)[:, columns], touched


def before(device_name: str, isa, observable, binding: np.ndarray) -> np.ndarray:
    """The old path: BackendEstimatorV2 on the fake device (a fresh device: its full noise model is
    built at its first run, as it was once per process)."""
    from qiskit.primitives import BackendEstimatorV2

    fake_device.cache_clear()
    estimator = BackendEstimatorV2(backend=fake_device(device_name),
                                   options={"default_precision": 1.0 / math.sqrt(SHOTS - 0.5), "seed_simulator": 0})
    return np.asarray(estimator.run([(isa, observable, binding)]).result()[0].data.evs)


def parts(device_name: str, backend: IBMBackend, circuit, dc, binding: np.ndarray) -> list[tuple[str, Timer]]:
    from qiskit_aer import AerSimulator

    out = []
    every = tuple(range(fake_device(device_name).num_qubits))
    with Timer() as t:  # as the fake device builds its own (the same functions, every qubit)
        full = noise_model_on.__wrapped__(device_name, every)
    out.append(("full noise model built (every qubit)", t))
    from qiskit import ClassicalRegister

    one = dc.isa.assign_parameters(binding[0])
    one.add_register(ClassicalRegister(1))
    one.measure(dc.readout_physical, 0)  # Aer drops the idle qubits; the noise model stays whole
    simulator = AerSimulator(noise_model=full, method="density_matrix")
    with Timer() as t:
        simulator.run(one, shots=SHOTS).result()
    out.append(("one run, full noise model, 1 sample", t))
    compact = dc.compact(measured=True)
    with Timer() as t:
        model = noise_model_on.__wrapped__(device_name, compact.physical)
    out.append((f"noise model on the {compact.n_qubits} qubits used", t))
    with Timer() as t:
        backend._circuits.clear()
        backend.transpiled(circuit)
    out.append((f"transpilation ({backend.settings.layout_trials} seeds)", t))
    few = binding[:2]
    for method in ("density_matrix", "statevector"):
        with Timer() as t:
            run_compact(compact, few, noise_model=model, shots=SHOTS, method=method, seed=0)
        out.append((f"cut circuit, {method}, 2 samples", t))
    return out



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", default="FakeFez,FakeSherbrooke")
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--baseline-rows", type=int, default=20)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    circuit, features, weights = case(args.rows)
    print(f"Readout model, angle encoding, 10 qubits, {SHOTS} shots; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores\n")
    print("| device | path | rows | wall s | CPU s | wall s per row |")
    print("|---|---|---|---|---|---|")
    details = {}
    for name in args.devices.split(","):
        with Timer() as built:
            backend = IBMBackend(device=name, shots=SHOTS, seed=0)
        with Timer() as first:
            backend.expval(circuit, features, weights)
        with Timer() as second:
            backend.expval(circuit, features, weights)
        dc = backend.transpiled(circuit)
        binding = dc.binding(features, weights)
        rows = [("after, first call (errors and cut circuit made)", args.rows, first),
                ("after, next call", args.rows, second)]
        if args.baseline_rows:
            n = args.baseline_rows
            isa, observable, old_binding, touched = old_layout(name, circuit, features, weights)
            with Timer() as old:
                before(name, isa, observable, old_binding[:n])
            with Timer() as same:
                before(name, dc.isa, dc.observable, binding[:n])
            rows[:0] = [(f"before: BackendEstimatorV2, full noise model, old layout ({touched} qubits)", n, old),
                        (f"before, on the new layout ({dc.qubits_used} qubits)", n, same)]
        for label, n, t in rows:
            print(f"| {name} | {label} | {n} | {t.wall:.1f} | {t.cpu:.1f} | {t.wall / n:.2f} |")
        details[name] = (backend, dc, built, parts(name, backend, circuit, dc, binding))
    for name, (backend, dc, built, timed) in details.items():
        print(f"\n{name}: backend built in {built.wall:.1f} s; transpiled circuit {dc.describe()}; "
              f"{backend.info()['summary']}\n")
        print("| part | wall s | CPU s |")
        print("|---|---|---|")
        for label, t in timed:
            print(f"| {label} | {t.wall:.2f} | {t.cpu:.2f} |")


if __name__ == "__main__":
    main()
