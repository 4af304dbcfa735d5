"""PennyLane statevector backend: one broadcast QNode call per batch (chunked for memory)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pennylane as qml
from autograd import make_vjp

from qenc_bench import Backend, Circuit, Gradients
from qenc_bench.errors import IncompatibleComponentsError

from . import CAPABILITIES

GATES = {
    "X": qml.PauliX,
    "H": qml.Hadamard,
    "RX": qml.RX,
    "RY": qml.RY,
    "RZ": qml.RZ,
    "CNOT": qml.CNOT,
    "CZ": qml.CZ,
    "IsingXX": qml.IsingXX,
    "IsingZZ": qml.IsingZZ,
}

#: complex amplitudes held at once by a broadcast batch (2^24 = 256 MiB of statevectors)
AMPLITUDE_BUDGET = 2**24
#: backprop keeps every intermediate state of a chunk: a smaller budget for gradients
GRADIENT_AMPLITUDE_BUDGET = 2**20
#: default.mixed holds 4^n entries per sample; beyond this it is far slower than Aer
NOISY_MAX_QUBITS = 8


#: PennyLane 0.45's autograd path applies a broadcast RX/RY/RZ to an already broadcast state of
#: 13 or more dimensions with a tensordot that fails ("shape-mismatch for sum"); the general
#: rotation ``Rot`` takes the einsum path that handles it. Same unitaries exactly.
_AS_ROT = {
    "RX": lambda a, w: qml.Rot(np.pi / 2, a, -np.pi / 2, wires=w),
    "RY": lambda a, w: qml.Rot(0.0, a, 0.0, wires=w),
    "RZ": lambda a, w: qml.Rot(a, 0.0, 0.0, wires=w),
}
_ROT_FROM_QUBITS = 12


def apply_circuit(circuit: Circuit, features, weights) -> None:
    """Queue the circuit's gates; ``features`` (N, F) is broadcast over its rows."""
    as_rot = circuit.n_qubits >= _ROT_FROM_QUBITS
    for op in circuit.ops:
        gate = GATES[op.gate]
        if op.source is None:
            gate(wires=op.wires)
        elif op.source == "feature":
            if as_rot and op.gate in _AS_ROT:
                _AS_ROT[op.gate](features[:, op.index], op.wires)
            else:
                gate(features[:, op.index], wires=op.wires)
        else:
            gate(weights[op.index], wires=op.wires)


def _reads_features(circuit: Circuit) -> bool:
    return any(op.source == "feature" for op in circuit.ops)


class PennyLaneBackend(Backend):
    """:param device: a PennyLane device name (``default.qubit``)."""

    name = "pennylane"
    capabilities = CAPABILITIES
    input_gradient_method = "backprop"

    def __init__(self, device: str = "default.qubit"):
        if device not in ("default.qubit", "lightning.qubit"):
            raise IncompatibleComponentsError(
                f"pennylane device {device!r} is not supported; use default.qubit or lightning.qubit "
                f"(noise runs on default.mixed automatically)"
            )
        self.device_name = device
        # backprop where the device supports it (default.qubit), else the adjoint method
        self.diff_method = "backprop" if device == "default.qubit" else "adjoint"
        self._qnodes: dict = {}

    def _qnode(self, circuit: Circuit, measure: str, wires: tuple[int, ...] = ()):
        key = (circuit, measure, wires)
        if key not in self._qnodes:
            dev = qml.device(self.device_name, wires=circuit.n_qubits)

            def body(features, weights):
                apply_circuit(circuit, features, weights)
                if measure == "expval":
                    return qml.expval(qml.PauliZ(circuit.readout))
                return qml.density_matrix(wires=list(wires))

            self._qnodes[key] = qml.QNode(body, dev, interface="autograd", diff_method=self.diff_method)
        return self._qnodes[key]

    def _chunks(self, circuit: Circuit, n_rows: int, budget: int = AMPLITUDE_BUDGET):
        size = max(1, budget >> circuit.n_qubits)
        return [slice(i, min(i + size, n_rows)) for i in range(0, n_rows, size)]

    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        self.check(circuit)
        qnode = self._qnode(circuit, "expval")
        features, weights = np.asarray(features, float), np.asarray(weights, float)
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
        chunks = self._chunks(circuit, len(features), GRADIENT_AMPLITUDE_BUDGET)
        if len(chunks) > 1:  # bounded memory: values now, each chunk's tape rebuilt in the pull-back
            return self._expval_vjp_chunked(circuit, qnode, features, weights, chunks, features_grad)
        parts = []
        for c in chunks:
            block = features[c]
            if features_grad:
                def fun(flat, shape=block.shape):
                    return qml.math.reshape(qnode(flat[n_w:].reshape(shape), flat[:n_w]), (-1,))
                vjp, value = make_vjp(fun)(np.concatenate([weights, block.ravel()]))
            else:
                def fun(w, block=block):
                    return qml.math.reshape(qnode(block, w), (-1,))
                vjp, value = make_vjp(fun)(weights)
            parts.append((c, vjp, np.asarray(value)))
        values = np.concatenate([p[2] for p in parts])

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
                block = features[c]
                if features_grad:
                    def fun(flat, shape=block.shape):
                        return qml.math.reshape(qnode(flat[n_w:].reshape(shape), flat[:n_w]), (-1,))
                    vjp, _ = make_vjp(fun)(np.concatenate([weights, block.ravel()]))
                else:
                    def fun(w, block=block):
                        return qml.math.reshape(qnode(block, w), (-1,))
                    vjp, _ = make_vjp(fun)(weights)
                g = np.asarray(vjp(np.asarray(cotangent[c], float)))
                g_w += g[:n_w]
                if features_grad:
                    g_f[c] = g[n_w:].reshape(block.shape)
            return Gradients(weights=g_w, features=g_f)

        return values, pull_back

    def check_noise(self, circuit: Circuit) -> None:
        if circuit.n_qubits > NOISY_MAX_QUBITS:
            raise IncompatibleComponentsError(
                f"backend 'pennylane' simulates noise on default.mixed up to {NOISY_MAX_QUBITS} qubits "
                f"(about 40 s per sample at 10); this circuit has {circuit.n_qubits}: use --backend aer for noise"
            )

    def noisy_expval(self, circuit, features, weights, noise):
        from .mixed import noisy_expval  # default.mixed; mixed imports this module

        self.check(circuit)
        self.check_noise(circuit)
        return noisy_expval(circuit, features, weights, noise)

    def reduced_density_matrix(self, circuit, features, weights, wires: Sequence[int]) -> np.ndarray:
        self.check(circuit)
        qnode = self._qnode(circuit, "density", tuple(wires))
        features, weights = np.asarray(features, float), np.asarray(weights, float)
        k = len(wires)
        if not _reads_features(circuit):
            rho = np.reshape(qnode(features[:1], weights), (2**k, 2**k))
            return np.broadcast_to(rho, (len(features), 2**k, 2**k)).copy()
        out = [np.reshape(qnode(features[c], weights), (-1, 2**k, 2**k)) for c in self._chunks(circuit, len(features))]
        return np.concatenate(out)
