"""The exact backend's closed form under depolarizing noise against Aer's density matrices."""

from __future__ import annotations

import numpy as np
import pytest

from qenc_aer.backend import AerBackend
from qenc_bench.circuit import Circuit, Op
from qenc_bench.model import ReadoutModel
from qenc_bench.noise import Depolarizing
from qenc_exact import ExactReadoutBackend


class _FeatureMap:
    def __init__(self, n: int, ops):
        self.n_qubits, self._ops = n, tuple(ops)

    def feature_map(self):
        return self._ops


def random_feature_map(n: int, rng) -> _FeatureMap:
    ops, column = [], 0
    for j in range(n):
        for _ in range(rng.integers(1, 4)):
            gate = rng.choice(["RX", "RY", "RZ", "H", "X"])
            if gate in ("H", "X"):
                ops.append(Op(gate, (j,)))
            else:
                ops.append(Op(gate, (j,), "feature", column))
                column += 1
    return _FeatureMap(n, ops)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("p", [0.0, 0.03, 0.1])
def test_noisy_readout_model_matches_aer_density_matrices(n, p):
    rng = np.random.default_rng(100 * n + int(p * 100))
    circuit = ReadoutModel().build(random_feature_map(n, rng))
    features = rng.uniform(0, np.pi, size=(6, circuit.n_features))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    exact = ExactReadoutBackend().noisy_expval(circuit, features, weights, Depolarizing(p))
    aer = AerBackend().noisy_expval(circuit, features, weights, Depolarizing(p))
    np.testing.assert_allclose(exact, aer, atol=1e-10)


def test_coupling_order_and_missing_couplings_are_respected():
    rng = np.random.default_rng(7)
    n, r = 4, 4
    ops = [Op("X", (r,)), Op("H", (r,))]
    ops += [Op("RY", (j,), "feature", j) for j in range(n)]
    ops += [Op("IsingXX", (j, r), "weight", j) for j in (2, 0, 3)]  # qubit 1 has no XX coupling
    ops += [Op("IsingZZ", (j, r), "weight", 4 + j) for j in (3, 1, 0)]  # qubit 2 has no ZZ coupling
    ops.append(Op("H", (r,)))
    circuit = Circuit(n_qubits=5, ops=tuple(ops), n_features=4, n_weights=8, readout=r)
    features = rng.uniform(0, np.pi, size=(5, 4))
    weights = rng.uniform(-np.pi, np.pi, size=8)
    for p in (0.05, 0.2):
        np.testing.assert_allclose(
            ExactReadoutBackend().noisy_expval(circuit, features, weights, Depolarizing(p)),
            AerBackend().noisy_expval(circuit, features, weights, Depolarizing(p)),
            atol=1e-10,
        )


def test_zero_noise_is_the_clean_model_and_noise_shrinks_the_output():
    rng = np.random.default_rng(3)
    circuit = ReadoutModel().build(random_feature_map(6, rng))
    features = rng.uniform(0, np.pi, size=(20, circuit.n_features))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    backend = ExactReadoutBackend()
    clean = backend.expval(circuit, features, weights)
    np.testing.assert_allclose(backend.noisy_expval(circuit, features, weights, Depolarizing(0.0)), clean, atol=1e-14)
    noisy = backend.noisy_expval(circuit, features, weights, Depolarizing(0.05))
    assert np.mean(np.abs(noisy)) < np.mean(np.abs(clean))


def test_noise_on_the_full_image_runs_in_closed_form():
    rng = np.random.default_rng(0)
    circuit = ReadoutModel().build(_FeatureMap(784, [Op("RX", (j,), "feature", j) for j in range(784)]))
    out = ExactReadoutBackend().noisy_expval(
        circuit, rng.uniform(0, 0.2, size=(4, 784)), np.zeros(circuit.n_weights), Depolarizing(0.001))
    assert out.shape == (4,) and np.all(np.isfinite(out)) and np.all(np.abs(out) <= 1)
