"""The formulas behind the metrics, on plain arrays (definitions and references: docs/metrics.md)."""

from __future__ import annotations

import numpy as np


def haar_bin_log_probabilities(n_qubits: int, bins: int) -> np.ndarray:
    """log P_k of the Haar fidelity distribution P(F) = (N - 1)(1 - F)^(N - 2), N = 2^n,
    integrated over each of ``bins`` equal bins of [0, 1]:
    P_k = (1 - a_k)^(N - 1) - (1 - b_k)^(N - 1), in log space so that bins near F = 1 stay
    finite for many qubits."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    power = 2.0**n_qubits - 1.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    with np.errstate(divide="ignore"):
        log_rest = np.log1p(-edges)  # log(1 - F); -inf at F = 1
        ratio = np.exp(power * (log_rest[1:] - log_rest[:-1]))  # ((1 - b) / (1 - a))^(N - 1); 0 in the last bin
        return power * log_rest[:-1] + np.log1p(-ratio)


def kl_from_haar(fidelities: np.ndarray, n_qubits: int, bins: int) -> float:
    """D_KL(P_hat || P_Haar) in nats of the histogram of ``fidelities`` over ``bins`` equal bins
    of [0, 1] (Sim, Johnson and Aspuru-Guzik 2019), with 0 log 0 = 0."""
    fidelities = np.clip(np.asarray(fidelities, dtype=np.float64), 0.0, 1.0)
    if fidelities.size == 0:
        raise ValueError("no fidelities to compare with the Haar distribution")
    counts, _ = np.histogram(fidelities, bins=bins, range=(0.0, 1.0))
    p = counts / counts.sum()
    seen = p > 0
    return float(np.sum(p[seen] * (np.log(p[seen]) - haar_bin_log_probabilities(n_qubits, bins)[seen])))


def meyer_wallach(states: np.ndarray) -> np.ndarray:
    """Q = 2 (1 - (1/n) sum_k tr(rho_k^2)) of each statevector (N, 2^n), wire 0 the most
    significant bit; rho_k is qubit k's reduced state (Meyer and Wallach 2002, in Brennen's
    form)."""
    states = np.asarray(states, dtype=complex)
    n = int(round(np.log2(states.shape[1])))
    if 2**n != states.shape[1] or n < 1:
        raise ValueError(f"statevectors of length {states.shape[1]}: not 2^n for n >= 1")
    purity = np.zeros(len(states))
    for k in range(n):
        split = states.reshape(len(states), 2**k, 2, 2 ** (n - k - 1))
        rho = np.einsum("nlar,nlbr->nab", split, split.conj())
        purity += np.sum(np.abs(rho) ** 2, axis=(1, 2))
    return 2.0 * (1.0 - purity / n)


def target_matrix(labels: np.ndarray) -> np.ndarray:
    """T_ij = +1 when samples i and j have the same label, else -1; for two classes this is
    y y^T with y = +-1."""
    labels = np.asarray(labels)
    return np.where(labels[:, None] == labels[None, :], 1.0, -1.0)


def kernel_target_alignment(kernel: np.ndarray, labels: np.ndarray) -> float:
    """A = <K, T>_F / (||K||_F ||T||_F) with T = :func:`target_matrix` (Cristianini et al. 2002):
    in [-1, 1] by Cauchy-Schwarz, 1 when K is a positive multiple of T."""
    kernel = np.asarray(kernel, dtype=np.float64)
    target = target_matrix(labels)
    norm = np.linalg.norm(kernel) * np.linalg.norm(target)
    if norm == 0:
        raise ValueError("the kernel is zero: alignment is undefined")
    return float(np.clip(np.sum(kernel * target) / norm, -1.0, 1.0))


def one_vs_rest_targets(labels: np.ndarray) -> np.ndarray:
    """(k', N) targets in {-1, +1}: one row, y = 2 label - 1, for two classes {0, 1}; else one
    row per class c, +1 for class c and -1 for the rest (the one-vs-rest models the harness
    trains)."""
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) <= 2 and set(classes.tolist()) <= {0, 1}:
        return (2.0 * labels - 1.0)[None, :]
    return np.where(labels[None, :] == classes[:, None], 1.0, -1.0)


def hinge_cotangent(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """d/d outputs of the mean hinge loss mean(max(0, 1 - y f)), y = +-1 (0 where the margin
    is met)."""
    return np.where(1.0 - targets * outputs > 0, -targets, 0.0) / len(targets)
