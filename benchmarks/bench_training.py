"""Training cost of the paper's readout model: qenc-bench's backends against the way the ATP
paper trained it (qiskit-machine-learning's EstimatorQNN) and the PennyLane tutorial way (one
QNode call and one ``qml.grad`` per sample).

Setup, shared by every path: MNIST 0/1 at grid 3 (9 data qubits + 1 readout), angle encoding
RX(pi x), 1000 training samples, the same initial weights (``ReadoutModel.init_weights`` with
seed 0), Adam lr 0.05, batch 32, hinge loss, 10 epochs. One BLAS thread.

- (a) ``qenc_bench.training.train`` on the ``exact`` backend (what ``compare`` does by default)
- (b) the same on ``pennylane`` (default.qubit, broadcasting, backprop)
- (c) the same on ``aer`` (parameter shift); one epoch timed, trained fully only when 10
  epochs are estimated under ``--aer-budget`` seconds
- (d) qiskit-machine-learning: EstimatorQNN (StatevectorEstimator, precision 0, its default
  parameter-shift gradient) + NeuralNetworkClassifier with a hinge ``Loss`` and its ADAM;
  timed on a few batches and extrapolated (needs ``pip install qiskit-machine-learning``)
- (e) PennyLane per-sample loop: ``qml.grad`` of the hinge loss of one QNode call per sample;
  timed on 50 samples and extrapolated

Then the exact backend at 17 qubits (grid 4) and 785 qubits (grid 28, the full image), and
pennylane at 17 qubits (one epoch).

    python benchmarks/bench_training.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from qenc_bench.harness import CompareConfig, plan
from qenc_bench.metrics import accuracy
from qenc_bench.model import ReadoutModel
from qenc_bench.training import TrainConfig, train
from qenc_encoders.angle import AngleEncoder

EPOCHS = 10
N_TRAIN = 1000
CONFIG = TrainConfig(learning_rate=0.05, max_epochs=EPOCHS, patience=EPOCHS, batch_size=32)


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} cores"


def load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def versions() -> str:
    out = []
    for name in ("numpy", "pennylane", "qiskit", "qiskit-aer", "qiskit-machine-learning"):
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return f"Python {sys.version.split()[0]}, " + ", ".join(out)


def setup(grid, data_dir: str):
    config = CompareConfig(encoders=("angle",), dataset="mnist", classes=(0, 1), grid=grid, train_size=N_TRAIN,
                           test_size=500, validation_size=200, data_dir=data_dir)
    data = plan(config).first
    encoder = AngleEncoder().fit(data.train, data.validation)
    circuit = ReadoutModel().build(encoder)
    x = {k: encoder.transform(getattr(data, k).x) for k in ("train", "validation", "test")}
    y = {k: getattr(data, k).y for k in ("train", "validation", "test")}
    w0 = ReadoutModel().init_weights(circuit, np.random.default_rng(0))
    return circuit, x, y, w0


def run_train(circuit, backend, x, y, w0, epochs: int):
    """Seconds per epoch (each epoch: 1000 samples forward + gradient in batches of 32, then
    one forward pass over the 200 validation samples), the result, and the test accuracy."""
    config = TrainConfig(learning_rate=0.05, max_epochs=epochs, patience=epochs, batch_size=32)
    backend.expval(circuit, x["train"][:2], w0)  # warm-up: translation, QNode, plan caches
    start, cpu = time.perf_counter(), time.process_time()
    result = train(circuit, backend, x["train"], y["train"], x["validation"], y["validation"], w0, config,
                   np.random.default_rng(0))
    seconds = np.array([time.perf_counter() - start, time.process_time() - cpu])
    test = accuracy(backend.expval(circuit, x["test"], result.weights), y["test"])  # best-validation weights
    return seconds / result.epochs, result, test


# ---------------------------------------------------------------- (d) qiskit-machine-learning

def qiskit_circuit(n_data: int):
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector

    xs = ParameterVector("x", n_data)
    ws = ParameterVector("w", 2 * n_data)
    r = n_data
    qc = QuantumCircuit(n_data + 1)
    qc.x(r)
    qc.h(r)
    for j in range(n_data):
        qc.rx(np.pi * xs[j], j)
    for j in range(n_data):
        qc.rxx(ws[j], j, r)
    for j in range(n_data):
        qc.rzz(ws[n_data + j], j, r)
    qc.h(r)
    return qc, list(xs), list(ws)


def bench_estimator_qnn(circuit, x_pixels, y, w0, exact_backend, batches: int):
    """EstimatorQNN forward + backward per batch of 32 (what one NeuralNetworkClassifier gradient
    step costs per sample); a check that it computes the same function; and a short
    NeuralNetworkClassifier.fit (ADAM, 1 iteration, hinge loss) on 64 samples."""
    from qiskit.primitives import StatevectorEstimator
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_machine_learning.algorithms import NeuralNetworkClassifier
    from qiskit_machine_learning.neural_networks import EstimatorQNN
    from qiskit_machine_learning.optimizers import ADAM
    from qiskit_machine_learning.utils.loss_functions import Loss

    n = x_pixels.shape[1]
    qc, xs, ws = qiskit_circuit(n)
    observable = SparsePauliOp("Z" + "I" * n)  # Z on qubit n, the readout (little-endian labels)
    qnn = EstimatorQNN(circuit=qc, estimator=StatevectorEstimator(), observables=observable, input_params=xs,
                       weight_params=ws, default_precision=0.0)
    # same function as qenc-bench's circuit (pixels in [0, 1]; the circuit multiplies by pi)
    check = x_pixels[:8]
    ours = exact_backend.expval(circuit, np.pi * check, w0)
    theirs = np.asarray(qnn.forward(check, w0)).reshape(-1)
    agreement = float(np.max(np.abs(ours - theirs)))

    qnn.forward(x_pixels[:2], w0)
    qnn.backward(x_pixels[:2], w0)  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    for b in range(batches):
        rows = x_pixels[32 * b: 32 * (b + 1)]
        qnn.forward(rows, w0)
        qnn.backward(rows, w0)
    per_sample = np.array([time.perf_counter() - start, time.process_time() - cpu]) / (32 * batches)

    class Hinge(Loss):
        def evaluate(self, predict, target):
            return np.maximum(0.0, 1.0 - np.asarray(target) * np.asarray(predict))

        def gradient(self, predict, target):
            predict, target = np.asarray(predict), np.asarray(target)
            return np.where(1.0 - target * predict > 0, -target, 0.0)

    classifier = NeuralNetworkClassifier(qnn, loss=Hinge(), optimizer=ADAM(maxiter=1, lr=0.05), initial_point=w0)
    n_fit = 64
    start, cpu = time.perf_counter(), time.process_time()
    classifier.fit(x_pixels[:n_fit], 2.0 * y[:n_fit] - 1.0)  # labels -1/+1 against <Z> in [-1, 1]
    fit_per_sample = np.array([time.perf_counter() - start, time.process_time() - cpu]) / n_fit
    return per_sample, fit_per_sample, agreement


# ---------------------------------------------------------------- (e) PennyLane per-sample loop

def bench_pennylane_loop(x, y, w0, n_samples: int):
    import pennylane as qml
    from pennylane import numpy as pnp

    n = x.shape[1]
    r = n
    dev = qml.device("default.qubit", wires=n + 1)

    @qml.qnode(dev)
    def model(features, weights):
        qml.PauliX(r)
        qml.Hadamard(r)
        for j in range(n):
            qml.RX(features[j], wires=j)
        for j in range(n):
            qml.IsingXX(weights[j], wires=[j, r])
        for j in range(n):
            qml.IsingZZ(weights[n + j], wires=[j, r])
        qml.Hadamard(r)
        return qml.expval(qml.PauliZ(r))

    def cost(weights, features, label):
        return pnp.maximum(0.0, 1.0 - label * model(features, weights))

    grad = qml.grad(cost, argnums=0)
    weights = pnp.array(w0, requires_grad=True)
    labels = 2.0 * y - 1.0
    grad(weights, pnp.array(x[0], requires_grad=False), labels[0])  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n_samples):
        grad(weights, pnp.array(x[i], requires_grad=False), labels[i])
    return np.array([time.perf_counter() - start, time.process_time() - cpu]) / n_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--qnn-batches", type=int, default=4, help="EstimatorQNN batches of 32 to time")
    parser.add_argument("--loop-samples", type=int, default=50)
    parser.add_argument("--aer-budget", type=float, default=300.0,
                        help="train aer fully when 10 epochs are estimated under this many seconds")
    parser.add_argument("--skip", default="", help="comma-separated cases to skip: aer,qml,loop,large")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))

    from qenc_aer.backend import AerBackend
    from qenc_exact import ExactReadoutBackend
    from qenc_pennylane.backend import PennyLaneBackend

    print(f"Machine: {machine()}. {versions()}. BLAS threads: 1 (threadpoolctl). "
          f"Load average (1/5/15 min) at start: {load()}.\n")
    rows = []  # (label, seconds per epoch per 1000 samples, how, test accuracy)
    with threadpool_limits(1):
        circuit, x, y, w0 = setup(3, args.data_dir)
        exact = ExactReadoutBackend()
        t_a, res_a, acc_a = run_train(circuit, exact, x, y, w0, EPOCHS)
        rows.append(("(a) qenc-bench, exact backend (default)", t_a, f"trained {res_a.epochs} epochs", acc_a))
        print(f"  (a) done: {t_a} s/epoch", file=sys.stderr, flush=True)
        t_b, res_b, acc_b = run_train(circuit, PennyLaneBackend(), x, y, w0, EPOCHS)
        rows.append(("(b) qenc-bench, pennylane (broadcast + backprop)", t_b, f"trained {res_b.epochs} epochs", acc_b))
        print(f"  (b) done: {t_b} s/epoch", file=sys.stderr, flush=True)
        if "aer" not in skip:
            aer = AerBackend()
            t_c, _, _ = run_train(circuit, aer, x, y, w0, 1)
            if EPOCHS * t_c[0] < args.aer_budget:
                t_c, res_c, acc_c = run_train(circuit, aer, x, y, w0, EPOCHS)
                rows.append(("(c) qenc-bench, aer (parameter shift)", t_c, f"trained {res_c.epochs} epochs", acc_c))
            else:
                rows.append(("(c) qenc-bench, aer (parameter shift)", t_c, "one epoch timed; x10 extrapolated", None))
            print(f"  (c) done: {t_c} s/epoch", file=sys.stderr, flush=True)
        qnn_note = ""
        if "qml" not in skip:
            pixels = x["train"] / np.pi
            per_sample, fit_per_sample, agreement = bench_estimator_qnn(circuit, pixels, y["train"], w0, exact,
                                                                        args.qnn_batches)
            t_d = per_sample * N_TRAIN
            rows.append(("(d) qiskit-ml EstimatorQNN (the paper's way)", t_d,
                         f"{32 * args.qnn_batches} samples forward+backward timed, extrapolated", None))
            qnn_note = (f"EstimatorQNN agrees with the exact backend to {agreement:.1e} on 8 samples. "
                        f"NeuralNetworkClassifier.fit (hinge Loss subclass, ADAM maxiter=1, 64 samples): "
                        f"{1e3 * fit_per_sample[1]:.1f} ms CPU per sample, i.e. {fit_per_sample[1] * N_TRAIN:.1f} s CPU per "
                        f"1000-sample iteration (its ADAM takes full-batch steps: 10 iterations = 10 epochs of "
                        f"sample gradients, but only 10 weight updates against Adam's 320).")
            print(f"  (d) done: {t_d} s/epoch", file=sys.stderr, flush=True)
        if "loop" not in skip:
            t_e = bench_pennylane_loop(x["train"], y["train"], w0, args.loop_samples) * N_TRAIN
            rows.append(("(e) PennyLane per-sample QNode + qml.grad loop", t_e,
                         f"{args.loop_samples} samples timed, extrapolated", None))
            print(f"  (e) done: {t_e} s/epoch", file=sys.stderr, flush=True)

        large = []
        if "large" not in skip:
            c4, x4, y4, w4 = setup(4, args.data_dir)
            t, res, acc = run_train(c4, exact, x4, y4, w4, EPOCHS)
            large.append(("exact", c4.n_qubits, t, f"trained {res.epochs} epochs", acc))
            t, res, acc = run_train(c4, PennyLaneBackend(), x4, y4, w4, 1)
            large.append(("pennylane", c4.n_qubits, t, "one epoch timed", None))
            print("  17 qubits done", file=sys.stderr, flush=True)
            c28, x28, y28, w28 = setup(None, args.data_dir)
            t, res, acc = run_train(c28, exact, x28, y28, w28, EPOCHS)
            large.append(("exact", c28.n_qubits, t, f"trained {res.epochs} epochs", acc))

    print("Readout model, angle encoding, MNIST 0/1 at grid 3 (10 qubits), 1000 training samples, "
          "same initial weights, Adam lr 0.05, batch 32, hinge loss. An epoch of (a)-(c) also runs one "
          "forward pass over 200 validation samples (as `train` does); (d) and (e) count only the "
          "training samples' forward + gradient.\n")
    print("Wall = elapsed time (inflated by the machine's load); CPU = this process's CPU time "
          "(single-threaded work: what the wall time would be on an idle core). Ratios use CPU time.\n")
    print("| path | wall s per epoch (1000 samples) | CPU s per epoch | CPU s for 10 epochs | how measured | "
          "test acc. (500) |")
    print("|---|---:|---:|---:|---|---:|")
    for label, t, how, acc in rows:
        print(f"| {label} | {t[0]:.4g} | {t[1]:.4g} | {EPOCHS * t[1]:.4g} | {how} | "
              f"{'' if acc is None else f'{acc:.3f}'} |")
    times = {label[:3]: t for label, t, _, _ in rows}
    print()
    for other, target in (("(d)", 20), ("(e)", 1000)):
        if other in times:
            ratio = times[other][1] / times["(a)"][1]
            wall = times[other][0] / times["(a)"][0]
            verdict = "met" if ratio >= target else "NOT met"
            print(f"- speed-up of (a) over {other}: **{ratio:,.0f}x** CPU time ({wall:,.0f}x wall) "
                  f"(issue target {target}x or more: {verdict})")
    if "(b)" in times:
        for other in ("(d)", "(e)"):
            if other in times:
                print(f"- speed-up of (b) pennylane over {other}: {times[other][1] / times['(b)'][1]:,.1f}x CPU time")
    if qnn_note:
        print(f"\n{qnn_note}")
    if large:
        print("\nLarger circuits (angle encoding, same settings; grid 4 = 16 pixels, grid 28 = the full image):\n")
        print("| backend | qubits | wall s per epoch (1000 samples) | CPU s per epoch | how measured | test acc. (500) |")
        print("|---|---:|---:|---:|---|---:|")
        for name, q, t, how, acc in large:
            print(f"| {name} | {q} | {t[0]:.4g} | {t[1]:.4g} | {how} | {'' if acc is None else f'{acc:.3f}'} |")
    print(f"\nLoad average at end: {load()}.")


if __name__ == "__main__":
    main()
