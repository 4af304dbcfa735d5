"""The numbers a run reports: accuracy, entanglement entropy, resources."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits


def accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of samples whose sign(<Z>) matches the label (label 1 <-> output > 0)."""
    return float(np.mean((outputs > 0) == (labels == 1)))


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """H2(p) = -p log2 p - (1-p) log2(1-p), with 0 log 0 = 0."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log2(p), 0.0) - np.where(q > 0, q * np.log2(q), 0.0)
    return h


def partial_trace(states: np.ndarray, n_qubits: int, wires) -> np.ndarray:
    """Reduced density matrices (N, 2^k, 2^k) of ``wires`` (``wires[0]`` the most significant
    bit) from statevectors (N, 2^n), wire 0 the most significant bit (PennyLane's order)."""
    wires = [int(w) for w in wires]
    full = np.asarray(states).reshape((len(states),) + (2,) * n_qubits)
    rest = [1 + w for w in range(n_qubits) if w not in wires]
    psi = full.transpose([0] + [1 + w for w in wires] + rest).reshape(len(states), 2 ** len(wires), -1)
    return np.einsum("nim,njm->nij", psi, psi.conj())


def von_neumann_entropy(rho: np.ndarray) -> np.ndarray:
    """S(rho) = -tr(rho log2 rho) for a batch of density matrices (N, d, d): an array (N,).

    BLAS threads are limited to one: for many small matrices OpenBLAS's threading is
    30-100x slower on this kind of machine.
    """
    rho = np.asarray(rho)
    with threadpool_limits(limits=1, user_api="blas"):
        eig = np.linalg.eigvalsh(rho)
    eig = np.clip(eig.real, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(eig > 1e-15, -eig * np.log2(eig), 0.0)
    return terms.sum(axis=-1)


def hinge_loss(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Mean of max(0, 1 - y f) with y = +-1."""
    y = 2.0 * labels - 1.0
    return float(np.mean(np.maximum(0.0, 1.0 - y * outputs)))
