"""PennyLane statevector backends: one QNode call per chunk of a batch.

- ``pennylane`` runs on any supported PennyLane statevector device (:data:`.capabilities.DEVICES`):
  ``default.qubit`` broadcasts a gate over the whole chunk and differentiates by backprop;
  the lightning devices (``lightning.qubit``, ``lightning.kokkos``, ``lightning.gpu``) run one
  tape per row (PennyLane splits the broadcast) and differentiate by the adjoint method.
- ``lightning`` is the same backend on ``lightning.qubit`` by default (lightning devices only),
  declared for ``--backend auto`` on large circuits.

Reduced density matrices and statevectors come from a QNode that returns the state and is not
differentiated (so adjoint devices accept it); the partial trace is NumPy's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pennylane as qml
from autograd import make_vjp

from qenc_bench import Backend, Circuit, Gradients, IncompatibleComponentsError, partial_trace

from .capabilities import (
    CAPABILITIES,
    DEVICES,
    LIGHTNING_CAPABILITIES,
    LIGHTNING_DEVICES,
    NOISY_MAX_QUBITS,
    device_support,
)
from .circuits import GATES, apply_circuit

try:
    from pennylane.exceptions import DeviceError
except ImportError:  # PennyLane before 0.42
    from pennylane import DeviceError  # type: ignore[attr-defined,no-redef]

__all__ = ["GATES", "LightningBackend", "PennyLaneBackend", "apply_circuit"]

#: complex amplitudes held at once by a broadcast batch (2^24 = 256 MiB of statevectors)
AMPLITUDE_BUDGET = 2**24
#: backprop keeps every intermediate state of a chunk: a smaller budget for gradients
GRADIENT_AMPLITUDE_BUDGET = 2**20
#: what a device that cannot start raises when it is built (lightning.gpu without a GPU)
_DEVICE_START_ERRORS = (DeviceError, ImportError, OSError, RuntimeError, ValueError)


def _reads_features(circuit: Circuit) -> bool:
    return any(op.source == "feature" for op in circuit.ops)


class PennyLaneBackend(Backend):
    """:param device: a PennyLane statevector device (``default.qubit``, ``lightning.qubit``,
    ``lightning.kokkos``, ``lightning.gpu``); noise always runs on ``default.mixed``."""

    name = "pennylane"
    capabilities = CAPABILITIES
    allowed_devices: tuple[str, ...] = tuple(DEVICES)
    default_device = "default.qubit"

    def __init__(self, device: str | None = None):
        device = self.default_device if device is None else device
        self.support = device_support(device, self.name, self.allowed_devices)
        self.device_name = device
        self.diff_method = self.support.diff_method
        self.input_gradient_method = self.diff_method
        try:
            qml.device(device, wires=1)
        except _DEVICE_START_ERRORS as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IncompatibleComponentsError(
                f"backend {self.name!r}: PennyLane device {device!r} is installed but cannot start ({reason})"
            ) from None
        self._qnodes: dict = {}

    def info(self) -> dict:
        return {"device": self.device_name, "diff_method": self.diff_method, "pennylane": qml.__version__}

    def _qnode(self, circuit: Circuit, measure: str):
        key = (circuit, measure)
        if key not in self._qnodes:
            dev = qml.device(self.device_name, wires=circuit.n_qubits)
            workaround = self.support.broadcasts

            def body(features, weights):
                apply_circuit(circuit, features, weights, broadcast_workaround=workaround)
                if measure == "expval":
                    return qml.expval(qml.PauliZ(circuit.readout))
                return qml.state()

            if measure == "expval":
                self._qnodes[key] = qml.QNode(body, dev, interface="autograd", diff_method=self.diff_method)
            else:  # not differentiated: an adjoint device accepts a state measurement only so
                self._qnodes[key] = qml.QNode(body, dev, interface="numpy", diff_method=None)
        return self._qnodes[key]

    def _chunks(self, circuit: Circuit, n_rows: int, budget: int = AMPLITUDE_BUDGET):
        size = max(1, budget >> circuit.n_qubits)
        return [slice(i, min(i + size, n_rows)) for i in range(0, n_rows, size)]

    @property
    def _gradient_budget(self) -> int:
        """Backprop (a broadcasting device) keeps every intermediate state; the adjoint method
        runs one row at a time and keeps a few."""
        return GRADIENT_AMPLITUDE_BUDGET if self.diff_method == "backprop" else AMPLITUDE_BUDGET

    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        self.check(circuit)
        qnode = self._qnode(circuit, "expval")
        features, weights = np.asarray(features, float), np.asarray(weights, float)
        if len(features) == 0:
            return np.zeros(0)
        if not _reads_features(circuit):  # nothing to broadcast over: one value for every row
            return np.full(len(features), float(np.reshape(qnode(features[:1], weights), -1)[0]))
        out = [np.reshape(qnode(features[c], weights), -1) for c in self._chunks(circuit, len(features))]
        return np.concatenate(out)

    def expval_vjp(self, circuit, features, weights, *, features_grad: bool = False):
        self.check(circuit)
        qnode = self._qnode(circuit, "expval")
        features, weights = np.asarray(features, float), np.asarray(weights, float)
        n_w = len(weights)
        if not _reads_features(circuit):
            vjp1, value = make_vjp(lambda w: qml.math.reshape(qnode(features[:1], w), (-1,)))(weights)
            values = np.full(len(features), float(np.asarray(value)[0]))

            def pull_back_constant(cotangent: np.ndarray) -> Gradients:
                g_w = np.asarray(vjp1(np.array([np.sum(cotangent)], dtype=float)))
                return Gradients(weights=g_w, features=np.zeros_like(features) if features_grad else None)

            return values, pull_back_constant
        chunks = self._chunks(circuit, len(features), self._gradient_budget)
        if len(chunks) > 1:  # bounded memory: values now, each chunk's tape rebuilt in the pull-back
            return self._expval_vjp_chunked(circuit, qnode, features, weights, chunks, features_grad)
        parts = [(c, *self._chunk_vjp(qnode, features[c], weights, features_grad)) for c in chunks]
        values = np.concatenate([np.asarray(p[2]) for p in parts]) if parts else np.zeros(0)

        def pull_back(cotangent: np.ndarray) -> Gradients:
            g_w = np.zeros(n_w)
            g_f = np.zeros_like(features) if features_grad else None
            for c, vjp, _ in parts:
                g = np.asarray(vjp(np.asarray(cotangent[c], float)))
                g_w += g[:n_w]
                if features_grad:
                    g_f[c] = g[n_w:].reshape(features[c].shape)
            return Gradients(weights=g_w, features=g_f)

        return values, pull_back

    @staticmethod
    def _chunk_vjp(qnode, block: np.ndarray, weights: np.ndarray, features_grad: bool):
        """autograd's (vjp, values) of one chunk, in the weights (and the chunk's features)."""
        n_w = len(weights)
        if features_grad:
            def fun(flat, shape=block.shape):
                return qml.math.reshape(qnode(flat[n_w:].reshape(shape), flat[:n_w]), (-1,))
            return make_vjp(fun)(np.concatenate([weights, block.ravel()]))

        def fun_w(w):
            return qml.math.reshape(qnode(block, w), (-1,))
        return make_vjp(fun_w)(weights)

    def _expval_vjp_chunked(self, circuit, qnode, features, weights, chunks, features_grad):
        """Like :meth:`expval_vjp` for batches larger than one gradient chunk: the values come
        from forward passes, and the pull-back recomputes one chunk's tape at a time, so the
        memory stays that of one chunk (twice the forward work)."""
        values = self.expval(circuit, features, weights)
        n_w = len(weights)

        def pull_back(cotangent: np.ndarray) -> Gradients:
            g_w = np.zeros(n_w)
            g_f = np.zeros_like(features) if features_grad else None
            for c in chunks:
                vjp, _ = self._chunk_vjp(qnode, features[c], weights, features_grad)
                g = np.asarray(vjp(np.asarray(cotangent[c], float)))
                g_w += g[:n_w]
                if features_grad:
                    g_f[c] = g[n_w:].reshape(features[c].shape)
            return Gradients(weights=g_w, features=g_f)

        return values, pull_back

    def check_noise(self, circuit: Circuit) -> None:
        if not self.capabilities.noise:
            super().check_noise(circuit)
        if circuit.n_qubits > NOISY_MAX_QUBITS:
            raise IncompatibleComponentsError(
                f"backend {self.name!r} simulates noise on default.mixed up to {NOISY_MAX_QUBITS} qubits "
                f"(about 40 s per sample at 10); this circuit has {circuit.n_qubits}: use --backend aer for noise"
            )

    def noisy_expval(self, circuit, features, weights, noise):
        from .mixed import noisy_expval  # default.mixed

        self.check(circuit)
        self.check_noise(circuit)
        return noisy_expval(circuit, features, weights, noise)

    def _state_chunks(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray):
        """(rows, states (rows, 2^n)) per chunk."""
        qnode = self._qnode(circuit, "state")
        if not _reads_features(circuit):  # one state (1, 2^n), broadcast over the rows
            if len(features):
                yield slice(0, len(features)), np.reshape(qnode(features[:1], weights), (1, -1))
            return
        for c in self._chunks(circuit, len(features)):
            yield c, np.reshape(qnode(features[c], weights), (c.stop - c.start, -1))

    def statevector(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(N, 2^n) final states, wire 0 the most significant bit (PennyLane's order)."""
        self.check(circuit)
        features, weights = np.asarray(features, float), np.asarray(weights, float)
        out = np.empty((len(features), 2**circuit.n_qubits), dtype=complex)
        for rows, psi in self._state_chunks(circuit, features, weights):
            out[rows] = psi
        return out

    def reduced_density_matrix(self, circuit, features, weights, wires: Sequence[int]) -> np.ndarray:
        self.check(circuit)
        features, weights = np.asarray(features, float), np.asarray(weights, float)
        k = len(wires)
        out = np.empty((len(features), 2**k, 2**k), dtype=complex)
        for rows, psi in self._state_chunks(circuit, features, weights):
            out[rows] = partial_trace(psi, circuit.n_qubits, wires)
        return out


class LightningBackend(PennyLaneBackend):
    """PennyLane lightning (``lightning.qubit`` by default, or ``lightning.kokkos`` /
    ``lightning.gpu``), adjoint gradients; no noise.

    :param device: a lightning device name.
    """

    name = "lightning"
    capabilities = LIGHTNING_CAPABILITIES
    allowed_devices = LIGHTNING_DEVICES
    default_device = "lightning.qubit"
