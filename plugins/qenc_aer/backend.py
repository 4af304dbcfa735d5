"""Qiskit Aer backend: every batch is ONE Aer call with a binding array over its samples.

- ``expval``: Aer ``EstimatorV2`` on the statevector method with precision 0, which reads
  ``<Z_readout>`` off the final state (exact, not sampled).
- ``expval_vjp``: the parameter-shift rule per gate occurrence (see :mod:`.translate`); the
  unshifted and all shifted angle sets of all samples form one binding array
  (N, 1 + 2S, K), S = shifted occurrences (weights, plus features when asked), so one
  estimator call gives values and gradients.
- ``noisy_expval``: the density-matrix method with a depolarizing :class:`NoiseModel` on
  exactly the instructions the circuit emits (``x h rx ry rz`` and ``cx cz rxx rzz``; they
  are native to Aer, so nothing is transpiled into a gate the noise model would miss).
  Density matrices hold 4^n amplitudes: at most ``NOISY_MAX_QUBITS`` (13) qubits.
- ``reduced_density_matrix``: ``save_density_matrix`` on the statevector method; the
  partial trace runs inside Aer for the whole batch in one call (only the small matrices
  come back, one per sample).

With ``shots``, each expectation value (shifted ones too) is replaced by the mean of
``shots`` simulated Z measurements: Binomial(shots, (1 + <Z>) / 2) drawn from the exact
value, standard deviation sqrt((1 - <Z>^2) / shots) <= 1 / sqrt(shots). (Aer's own
``precision`` option adds Gaussian noise of a fixed standard deviation instead;
``precision = 1 / sqrt(shots)`` is the worst case of the binomial.)
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Sequence

import numpy as np
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, depolarizing_error
from qiskit_aer.primitives import EstimatorV2

from qenc_bench import Backend, Circuit, ConfigError, Depolarizing, Gradients, IncompatibleComponentsError

from .capabilities import CAPABILITIES, NOISY_MAX_QUBITS
from .translate import ONE_QUBIT_GATES, TWO_QUBIT_GATES, QiskitCircuit, to_qiskit

SHIFT = np.pi / 2
#: glibc's default threshold, made fixed (see :func:`return_freed_states_to_the_os`)
MMAP_THRESHOLD = 128 * 1024


def return_freed_states_to_the_os() -> None:
    """Make glibc serve every block of 128 KiB or more by ``mmap`` (process-wide).

    By default glibc raises its mmap threshold after the first large free, so Aer's
    statevectors (2^n x 16 B each, one per bound parameter set) then come from the heap,
    which small result objects fragment: measured on a 17-qubit batch, peak memory grew by
    one statevector per experiment (a 200-sample gradient, 13,000 experiments, was killed
    at 24 GB). With a fixed threshold the peak stays flat and run time is unchanged.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
        except OSError:  # not glibc (e.g. musl): nothing to tune
            return
        libc.mallopt(-3, MMAP_THRESHOLD)  # -3: M_MMAP_THRESHOLD


def depolarizing_noise_model(noise: Depolarizing) -> NoiseModel:
    """Aer's form of the convention in :mod:`qenc_bench.noise`, on every gate we emit."""
    model = NoiseModel()
    model.add_all_qubit_quantum_error(depolarizing_error(noise.aer_lambda_1q, 1), list(ONE_QUBIT_GATES))
    model.add_all_qubit_quantum_error(depolarizing_error(noise.aer_lambda_2q, 2), list(TWO_QUBIT_GATES))
    return model


class AerBackend(Backend):
    """:param shots: ``None`` for exact expectation values, else measurements per value.
    :param seed: seeds the shot sampling.
    :param threads: Aer's OpenMP threads per call (0: all cores). One by default: the harness
        runs independent runs in parallel processes, and on a busy 2-core machine Aer's
        threads made a 17-qubit batch 6x slower than one thread.
    """

    name = "aer"
    capabilities = CAPABILITIES
    input_gradient_method = "parameter shift"

    def __init__(self, shots: int | None = None, seed: int | None = None, threads: int = 1):
        if shots is not None and (isinstance(shots, bool) or int(shots) != shots or shots < 1):
            raise ConfigError(f"shots must be a positive integer or None (exact), got {shots!r}")
        self.shots = None if shots is None else int(shots)
        if isinstance(threads, bool) or int(threads) != threads or threads < 0:
            raise ConfigError(f"threads must be a non-negative integer (0: all cores), got {threads!r}")
        return_freed_states_to_the_os()
        self._rng = np.random.default_rng(seed)
        self._threads = {"max_parallel_threads": int(threads)}
        self._circuits: dict[Circuit, QiskitCircuit] = {}
        self._estimator = self._new_estimator(method="statevector")
        self._noisy_estimators: dict[Depolarizing, EstimatorV2] = {}
        self._states = AerSimulator(method="statevector", **self._threads)

    def _new_estimator(self, **backend_options) -> EstimatorV2:
        return EstimatorV2(options={"backend_options": {**backend_options, **self._threads}})

    def _translate(self, circuit: Circuit) -> QiskitCircuit:
        if circuit not in self._circuits:
            self._circuits[circuit] = to_qiskit(circuit)
        return self._circuits[circuit]

    def _run(self, estimator: EstimatorV2, qc: QiskitCircuit, angles: np.ndarray) -> np.ndarray:
        """``<Z_readout>`` for every angle set in ``angles`` (..., K), in one estimator call."""
        batch_shape = angles.shape[:-1]
        if 0 in batch_shape:
            return np.zeros(batch_shape)
        if qc.n_parameters == 0:  # a binding array without columns cannot carry the batch
            values = np.asarray(estimator.run([(qc.circuit, qc.observable)]).result()[0].data.evs)
            values = np.broadcast_to(values, batch_shape)
        else:
            values = np.asarray(estimator.run([(qc.circuit, qc.observable, angles)]).result()[0].data.evs)
        values = np.clip(values.reshape(batch_shape), -1.0, 1.0)
        if self.shots is None:
            return values
        ups = self._rng.binomial(self.shots, (1.0 + values) / 2.0)
        return 2.0 * ups / self.shots - 1.0

    @staticmethod
    def _inputs(features, weights) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(features, dtype=np.float64), np.asarray(weights, dtype=np.float64)

    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        self.check(circuit)
        features, weights = self._inputs(features, weights)
        qc = self._translate(circuit)
        return self._run(self._estimator, qc, qc.angles(features, weights))

    def expval_vjp(self, circuit, features, weights, *, features_grad: bool = False):
        self.check(circuit)
        features, weights = self._inputs(features, weights)
        qc = self._translate(circuit)
        shifted = np.flatnonzero(~qc.reads_feature | features_grad)
        # row 0 unshifted, rows 1 + 2s and 2 + 2s: occurrence shifted[s] at +pi/2 and -pi/2
        offsets = np.zeros((1 + 2 * len(shifted), qc.n_parameters))
        offsets[1 + 2 * np.arange(len(shifted)), shifted] = SHIFT
        offsets[2 + 2 * np.arange(len(shifted)), shifted] = -SHIFT
        angles = qc.angles(features, weights)[:, None, :] + offsets
        evs = self._run(self._estimator, qc, angles)  # (N, 1 + 2S)
        values = evs[:, 0]
        d_occurrence = (evs[:, 1::2] - evs[:, 2::2]) / 2.0  # (N, S)
        on_weight = ~qc.reads_feature[shifted]
        weight_index = qc.index[shifted][on_weight]
        feature_index = qc.index[shifted][~on_weight]

        def vjp(cotangent: np.ndarray) -> Gradients:
            g = np.asarray(cotangent, dtype=np.float64)[:, None] * d_occurrence
            g_w = np.zeros(len(weights))
            np.add.at(g_w, weight_index, g[:, on_weight].sum(axis=0))
            g_f = None
            if features_grad:
                g_f = np.zeros_like(features)
                np.add.at(g_f, (slice(None), feature_index), g[:, ~on_weight])
            return Gradients(weights=g_w, features=g_f)

        return values, vjp

    def check_noise(self, circuit: Circuit) -> None:
        if circuit.n_qubits > NOISY_MAX_QUBITS:
            raise IncompatibleComponentsError(
                f"backend {self.name!r} simulates noise on density matrices (4^n amplitudes), at most "
                f"{NOISY_MAX_QUBITS} qubits; this circuit has {circuit.n_qubits} (use a smaller --grid)"
            )

    def noisy_expval(self, circuit, features, weights, noise: Depolarizing) -> np.ndarray:
        self.check(circuit)
        self.check_noise(circuit)
        if noise not in self._noisy_estimators:
            self._noisy_estimators[noise] = self._new_estimator(
                method="density_matrix", noise_model=depolarizing_noise_model(noise)
            )
        features, weights = self._inputs(features, weights)
        qc = self._translate(circuit)
        return self._run(self._noisy_estimators[noise], qc, qc.angles(features, weights))

    def statevector(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(N, 2^n) final statevectors, wire 0 the most significant bit (PennyLane's order), in
        one Aer run with a save instruction and a binding per sample."""
        self.check(circuit)
        features, weights = self._inputs(features, weights)
        qc = self._translate(circuit)
        n = circuit.n_qubits
        if len(features) == 0:
            return np.zeros((0, 2**n), dtype=complex)
        saving = qc.circuit.copy()
        saving.save_statevector(label="psi")
        angles = qc.angles(features, weights)
        binds = [{p: angles[:, k] for k, p in enumerate(saving.parameters)}] if qc.n_parameters else None
        n_runs = len(features) if qc.n_parameters else 1
        result = self._states.run(saving, parameter_binds=binds, shots=1).result()
        psi = np.stack([np.asarray(result.data(i)["psi"]) for i in range(n_runs)])
        # Qiskit's index has qubit 0 as its least significant bit: reverse the qubit axes
        psi = psi.reshape((n_runs,) + (2,) * n).transpose((0, *range(n, 0, -1))).reshape(n_runs, 2**n)
        return np.broadcast_to(psi, (len(features), 2**n)).copy()

    def reduced_density_matrix(self, circuit, features, weights, wires: Sequence[int]) -> np.ndarray:
        """(N, 2^k, 2^k) with ``wires[0]`` the most significant bit (PennyLane's order)."""
        self.check(circuit)
        features, weights = self._inputs(features, weights)
        qc = self._translate(circuit)
        if len(features) == 0:
            return np.zeros((0, 2 ** len(wires), 2 ** len(wires)), dtype=complex)
        saving = qc.circuit.copy()
        # Aer orders the saved qubits little-endian: list them last-first
        saving.save_density_matrix(qubits=[int(w) for w in reversed(wires)], label="rho")
        angles = qc.angles(features, weights)
        binds = [{p: angles[:, k] for k, p in enumerate(saving.parameters)}] if qc.n_parameters else None
        n_runs = len(features) if qc.n_parameters else 1
        result = self._states.run(saving, parameter_binds=binds, shots=1).result()
        rho = np.stack([np.asarray(result.data(i)["rho"]) for i in range(n_runs)])
        return np.broadcast_to(rho, (len(features), *rho.shape[1:])).copy()
