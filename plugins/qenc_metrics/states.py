"""The feature-map states the metrics compare.

A feature map without a two-qubit gate prepares a product state: each qubit's 2-vector is
its own single-qubit gates applied to |0>, computed here in closed form for the whole batch
(O(n) per sample, no 2^n vector). Any other feature map goes to the engine's statevectors
(``MetricContext.statevectors``). :class:`FeatureStates` hides which one it holds: overlaps,
fidelities and the Gram matrix are products of one-qubit overlaps for product states and
inner products of statevectors otherwise.

Gate matrices follow :mod:`qenc_bench.circuit`: ``RX(a) = exp(-i a X / 2)`` and likewise RY,
RZ; ``H`` and ``X`` as usual. Statevectors have wire 0 as the most significant bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qenc_bench import Circuit, MetricContext

_FIXED = {
    "X": np.array([[0.0, 1.0], [1.0, 0.0]], dtype=complex),
    "H": np.array([[1.0, 1.0], [1.0, -1.0]], dtype=complex) / np.sqrt(2.0),
}


def _rx(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a / 2), np.sin(a / 2)
    return np.stack([np.stack([c, -1j * s], -1), np.stack([-1j * s, c], -1)], -2)


def _ry(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a / 2), np.sin(a / 2)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2).astype(complex)


def _rz(a: np.ndarray) -> np.ndarray:
    phase = np.exp(-0.5j * a)
    zero = np.zeros_like(phase)
    return np.stack([np.stack([phase, zero], -1), np.stack([zero, phase.conj()], -1)], -2)


_ROTATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"RX": _rx, "RY": _ry, "RZ": _rz}


def qubit_states(feature_map: Circuit, features: np.ndarray) -> np.ndarray:
    """(N, n, 2) complex: every qubit's state after the feature map, for a map of one-qubit
    gates only (X, H, RX, RY, RZ; angles from the feature columns), batched over the rows of
    ``features``. Raises ``ValueError`` for a two-qubit gate or a weight-driven gate."""
    features = np.asarray(features, dtype=np.float64)
    states = np.zeros((len(features), feature_map.n_qubits, 2), dtype=complex)
    states[:, :, 0] = 1.0
    for op in feature_map.ops:
        if op.is_two_qubit:
            raise ValueError(f"{op.gate} on wires {op.wires}: not a product-state feature map")
        (wire,) = op.wires
        if op.source is None:
            states[:, wire] = states[:, wire] @ _FIXED[op.gate].T
        elif op.source == "feature":
            matrices = _ROTATIONS[op.gate](features[:, op.index])  # (N, 2, 2)
            states[:, wire] = np.einsum("nab,nb->na", matrices, states[:, wire])
        else:
            raise ValueError(f"{op.gate} reads a weight: a feature map reads features only")
    return states


def product_statevectors(qubits: np.ndarray) -> np.ndarray:
    """(N, 2^n): the Kronecker product of each row's qubit states (N, n, 2), wire 0 the most
    significant bit. Exponential in n: for checks on small maps, not for the metrics."""
    out = np.ones((len(qubits), 1), dtype=complex)
    for q in range(qubits.shape[1]):
        out = (out[:, :, None] * qubits[:, None, q, :]).reshape(len(qubits), -1)
    return out


class FeatureStates:
    """The feature-map states of N samples: ``array`` holds the qubit factors (N, n, 2) of
    product states (``product``) or the statevectors (N, 2^n); build it with :meth:`of`."""

    def __init__(self, array: np.ndarray, *, product: bool):
        expected = 3 if product else 2
        if array.ndim != expected:
            raise ValueError(f"{'qubit factors' if product else 'statevectors'} need {expected} axes, got {array.shape}")
        self.array, self.product = array, product

    @classmethod
    def of(cls, context: MetricContext, x: np.ndarray) -> FeatureStates:
        """The states of samples ``x`` (rows in the encoder's view): closed form for a product
        feature map, else the engine's statevectors (which may raise MetricUnavailable)."""
        features = context.encoder.transform(x)
        if context.product_state:
            return cls(qubit_states(context.feature_map, features), product=True)
        vectors = context.statevectors(context.feature_map, features, np.zeros(0))
        return cls(np.asarray(vectors, dtype=complex), product=False)

    @property
    def path(self) -> str:
        """What a record's details say about how the states were obtained."""
        return "product state, closed form" if self.product else "statevectors"

    @property
    def vectors(self) -> np.ndarray:
        """(N, 2^n) statevectors (of product states: their Kronecker products, exponential in n)."""
        return product_statevectors(self.array) if self.product else self.array

    def __len__(self) -> int:
        return len(self.array)

    def overlaps(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """<psi_i|psi_j> for the index pairs (i[k], j[k])."""
        a = self.array
        if self.product:
            return np.prod(np.einsum("pqa,pqa->pq", a[i].conj(), a[j]), axis=1)
        return np.einsum("pa,pa->p", a[i].conj(), a[j])

    def fidelities(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """|<psi_i|psi_j>|^2 for the index pairs (i[k], j[k]), clipped to [0, 1]."""
        return np.clip(np.abs(self.overlaps(i, j)) ** 2, 0.0, 1.0)

    def gram(self) -> np.ndarray:
        """(N, N) complex: G_ij = <psi_i|psi_j>."""
        a = self.array
        if not self.product:
            return a.conj() @ a.T
        gram = np.ones((len(a), len(a)), dtype=complex)
        for q in range(a.shape[1]):
            gram *= a[:, q].conj() @ a[:, q].T
        return gram

    def kernel(self) -> np.ndarray:
        """(N, N) fidelity kernel K_ij = |<psi_i|psi_j>|^2."""
        return np.clip(np.abs(self.gram()) ** 2, 0.0, 1.0)
