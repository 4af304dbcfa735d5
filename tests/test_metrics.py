"""The metrics: von Neumann and binary entropy, accuracy, hinge loss; and the entropies the
PennyLane backend reports for states whose entanglement is known."""

from __future__ import annotations

import numpy as np
import pytest

from qenc_bench import Circuit, Op
from qenc_bench.metrics import accuracy, binary_entropy, hinge_loss, von_neumann_entropy

# --- von Neumann entropy ------------------------------------------------------------------


def _bell_density() -> np.ndarray:
    psi = np.array([1.0, 0.0, 0.0, 1.0]) / np.sqrt(2.0)  # (|00> + |11>) / sqrt 2
    return np.outer(psi, psi.conj())


def _partial_trace_second(rho4: np.ndarray) -> np.ndarray:
    """Trace out the second qubit by hand: rho_A[i, j] = sum_k rho[(i, k), (j, k)]."""
    out = np.zeros((2, 2), dtype=rho4.dtype)
    for i in range(2):
        for j in range(2):
            for k in range(2):
                out[i, j] += rho4[2 * i + k, 2 * j + k]
    return out


def test_pure_product_state_has_zero_entropy():
    zero = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert von_neumann_entropy(zero[None])[0] == 0.0
    plus = np.full((2, 2), 0.5)  # |+><+|, pure but not diagonal
    assert abs(von_neumann_entropy(plus[None])[0]) < 1e-12


def test_maximally_mixed_qubit_has_entropy_one():
    assert von_neumann_entropy((np.eye(2) / 2)[None])[0] == pytest.approx(1.0, abs=1e-14)
    assert von_neumann_entropy((np.eye(8) / 8)[None])[0] == pytest.approx(3.0, abs=1e-13)


def test_half_of_a_bell_pair_has_entropy_one():
    rho = _bell_density()
    assert von_neumann_entropy(rho[None])[0] == pytest.approx(0.0, abs=1e-12)  # the pair is pure
    reduced = _partial_trace_second(rho)
    np.testing.assert_allclose(reduced, np.eye(2) / 2, atol=1e-15)
    assert von_neumann_entropy(reduced[None])[0] == pytest.approx(1.0, abs=1e-12)


def test_entropy_of_a_diagonal_state_is_the_binary_entropy():
    p = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    rho = np.zeros((len(p), 2, 2))
    rho[:, 0, 0], rho[:, 1, 1] = p, 1 - p
    np.testing.assert_allclose(von_neumann_entropy(rho), binary_entropy(p), atol=1e-12)
    # and the closed form at p = 0.25
    assert von_neumann_entropy(rho)[2] == pytest.approx(-(0.25 * np.log2(0.25) + 0.75 * np.log2(0.75)))


def test_entropy_is_basis_independent_and_accepts_complex_matrices():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    diag = np.diag([0.4, 0.3, 0.2, 0.1])
    rho = q @ diag @ q.conj().T
    want = -sum(p * np.log2(p) for p in (0.4, 0.3, 0.2, 0.1))
    assert von_neumann_entropy(rho[None])[0] == pytest.approx(want, abs=1e-12)


def test_entropy_batch_shapes():
    mixed, pure = np.eye(2) / 2, np.diag([1.0, 0.0])
    batch = np.stack([mixed, pure, mixed])
    out = von_neumann_entropy(batch)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [1.0, 0.0, 1.0], atol=1e-14)
    nested = np.stack([batch, batch[::-1]])  # (2, 3, 2, 2)
    assert von_neumann_entropy(nested).shape == (2, 3)
    assert np.shape(von_neumann_entropy(mixed)) == ()
    assert von_neumann_entropy(np.zeros((0, 2, 2))).shape == (0,)


# --- binary entropy -----------------------------------------------------------------------


def test_binary_entropy_values():
    assert binary_entropy(0.5) == 1.0
    assert binary_entropy(0.0) == 0.0
    assert binary_entropy(1.0) == 0.0
    p = np.array([0.1, 0.3, 0.7, 0.9])
    h = binary_entropy(p)
    assert h.shape == (4,)
    np.testing.assert_allclose(h, -p * np.log2(p) - (1 - p) * np.log2(1 - p), rtol=1e-14)
    np.testing.assert_allclose(h, h[::-1], rtol=1e-14)  # symmetric about 1/2
    assert np.all(np.isfinite(binary_entropy(np.array([0.0, 1.0, 1e-300]))))


# --- accuracy and hinge loss --------------------------------------------------------------


def test_accuracy_on_hand_made_outputs():
    outputs = np.array([0.5, -0.2, 0.0, 0.9, -1.0, 1e-9])
    labels = np.array([1, 0, 1, 0, 0, 1])
    # correct: yes (0.5 > 0, 1), yes (-0.2, 0), no (0 is not > 0), no (0.9, 0), yes, yes
    assert accuracy(outputs, labels) == pytest.approx(4 / 6)
    assert accuracy(np.array([0.3, -0.3]), np.array([1, 0])) == 1.0
    assert accuracy(np.array([0.3, -0.3]), np.array([0, 1])) == 0.0
    assert isinstance(accuracy(outputs, labels), float)


def test_hinge_loss_on_hand_made_outputs():
    outputs = np.array([0.5, -0.2, 0.0, 0.9])
    labels = np.array([1, 0, 1, 0])
    # y = +1, -1, +1, -1: max(0, 1 - y f) = 0.5, 0.8, 1.0, 1.9
    assert hinge_loss(outputs, labels) == pytest.approx((0.5 + 0.8 + 1.0 + 1.9) / 4)
    # confident and right: zero loss; confident and wrong: 2
    assert hinge_loss(np.array([1.0, -1.0]), np.array([1, 0])) == 0.0
    assert hinge_loss(np.array([1.0, -1.0]), np.array([0, 1])) == 2.0
    assert isinstance(hinge_loss(outputs, labels), float)


# --- the PennyLane backend on states of known entanglement --------------------------------


def _bell_circuit() -> Circuit:
    """RX(feature 0) on wire 0, then H(0), CNOT(0, 1); with the feature 0 it is a Bell pair.

    The RX reads a feature so that the batch is broadcast (see
    test_a_circuit_without_features_gives_one_value_per_sample)."""
    ops = (Op("RX", (0,), "feature", 0), Op("H", (0,)), Op("CNOT", (0, 1)))
    return Circuit(n_qubits=2, ops=ops, n_features=1, n_weights=0, readout=1)


def test_pennylane_bell_pair_entropy_is_one(pennylane):
    circuit = _bell_circuit()
    features = np.zeros((3, 1))
    rho = pennylane.reduced_density_matrix(circuit, features, np.zeros(0), [0])
    assert rho.shape == (3, 2, 2)
    np.testing.assert_allclose(rho, np.broadcast_to(np.eye(2) / 2, (3, 2, 2)), atol=1e-14)
    np.testing.assert_allclose(pennylane.entropy(circuit, features, np.zeros(0), [0]), 1.0, atol=1e-12)
    np.testing.assert_allclose(pennylane.entropy(circuit, features, np.zeros(0), [1]), 1.0, atol=1e-12)
    # the pair as a whole is pure
    np.testing.assert_allclose(pennylane.entropy(circuit, features, np.zeros(0), [0, 1]), 0.0, atol=1e-12)
    # RX(pi) first: |1> -> H -> |->, CNOT: (|00> - |11>)/sqrt 2, still maximally entangled
    np.testing.assert_allclose(pennylane.entropy(circuit, np.full((2, 1), np.pi), np.zeros(0), [0]), 1.0,
                               atol=1e-12)


def test_pennylane_partial_entanglement_follows_the_feature(pennylane):
    """RY(a) on wire 0, CNOT: cos(a/2)|00> + sin(a/2)|11>, entropy H2(cos^2(a/2)) per sample."""
    ops = (Op("RY", (0,), "feature", 0), Op("CNOT", (0, 1)))
    circuit = Circuit(n_qubits=2, ops=ops, n_features=1, n_weights=0, readout=1)
    a = np.array([0.0, 0.3, 1.0, np.pi / 2, 2.5, np.pi])
    got = pennylane.entropy(circuit, a[:, None], np.zeros(0), [0])
    np.testing.assert_allclose(got, binary_entropy(np.cos(a / 2) ** 2), atol=1e-12)


def test_pennylane_product_state_entropy_is_zero(pennylane):
    ops = (Op("RX", (0,), "feature", 0), Op("RX", (1,), "feature", 1))
    circuit = Circuit(n_qubits=2, ops=ops, n_features=2, n_weights=0, readout=1)
    features = np.array([[0.0, 0.0], [0.7, 2.1], [np.pi, 1.0]])
    for wire in (0, 1):
        np.testing.assert_allclose(pennylane.entropy(circuit, features, np.zeros(0), [wire]), 0.0, atol=1e-12)
    np.testing.assert_allclose(pennylane.expval(circuit, features, np.zeros(0)), np.cos(features[:, 1]), atol=1e-12)


def test_a_circuit_without_features_gives_one_value_per_sample(pennylane):
    """The Backend contract: expval is (N,) and reduced density matrices are (N, 2^k, 2^k)
    for N feature rows, also when no gate reads a feature (nothing to broadcast)."""
    circuit = Circuit(n_qubits=2, ops=(Op("H", (0,)), Op("CNOT", (0, 1))), n_features=0, n_weights=0, readout=1)
    features = np.zeros((3, 0))
    assert pennylane.expval(circuit, features, np.zeros(0)).shape == (3,)
    assert pennylane.reduced_density_matrix(circuit, features, np.zeros(0), [0]).shape == (3, 2, 2)
    np.testing.assert_allclose(pennylane.entropy(circuit, features, np.zeros(0), [0]), [1.0, 1.0, 1.0], atol=1e-12)
