"""The ``aer`` backend against PennyLane's statevector backend: values, parameter-shift
gradients, reduced states, one Aer call per batch, shot noise, and refusals."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import qenc_aer
from qenc_aer.backend import AerBackend
from qenc_aer.capabilities import NOISY_MAX_QUBITS
from qenc_bench import Circuit, Op
from qenc_bench.errors import ConfigError, IncompatibleComponentsError
from qenc_bench.model import ReadoutModel
from qenc_bench.plugins import Registry

TOL = 1e-8


class AngleFeatureMap:
    """RX on each data wire reading its own feature: what ``ReadoutModel.build`` needs."""

    def __init__(self, n_qubits: int):
        self.n_qubits = n_qubits

    def feature_map(self) -> tuple[Op, ...]:
        return tuple(Op("RX", (j,), "feature", j) for j in range(self.n_qubits))


def readout_circuit(n_data: int, layers: int = 1) -> Circuit:
    return ReadoutModel(layers=layers).build(AngleFeatureMap(n_data))


def generic_circuit(n_qubits: int, seed: int) -> Circuit:
    """Random gates of every kind; features and weights each feed several gates."""
    rng = np.random.default_rng(seed)
    n_features, n_weights = 3, 4
    ops = [Op("H", (w,)) for w in range(n_qubits)]
    for _ in range(8 * n_qubits):
        gate = rng.choice(["X", "H", "RX", "RY", "RZ", "CNOT", "CZ", "IsingXX", "IsingZZ"])
        n_wires = 2 if gate in ("CNOT", "CZ", "IsingXX", "IsingZZ") else 1
        wires = tuple(int(w) for w in rng.choice(n_qubits, n_wires, replace=False))
        if gate in ("X", "H", "CNOT", "CZ"):
            ops.append(Op(gate, wires))
        elif rng.random() < 0.5:
            ops.append(Op(gate, wires, "feature", int(rng.integers(n_features))))
        else:
            ops.append(Op(gate, wires, "weight", int(rng.integers(n_weights))))
    return Circuit(n_qubits, tuple(ops), n_features, n_weights, readout=int(rng.integers(n_qubits)))


CIRCUITS = {
    **{f"readout-{n + 1}q": readout_circuit(n) for n in range(1, 6)},
    "readout-2layers-4q": readout_circuit(3, layers=2),
    **{f"generic-{n}q": generic_circuit(n, seed=n) for n in range(2, 7)},
}


def batch(circuit: Circuit, n_samples: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    features = rng.uniform(0.0, np.pi, size=(n_samples, circuit.n_features))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    return features, weights


@pytest.fixture
def count_estimator_calls(monkeypatch):
    """``count_estimator_calls(backend)`` -> a list that grows by one per estimator call."""

    def install(backend: AerBackend) -> list:
        calls = []
        estimator = backend._estimator
        run = estimator.run

        def counted(pubs, **kwargs):
            pubs = list(pubs)
            calls.append(pubs)
            return run(pubs, **kwargs)

        monkeypatch.setattr(estimator, "run", counted)
        return calls

    return install


@pytest.mark.parametrize("name", CIRCUITS)
def test_values_agree_with_pennylane(name, aer, pennylane):
    circuit = CIRCUITS[name]
    features, weights = batch(circuit)
    np.testing.assert_allclose(
        aer.expval(circuit, features, weights), pennylane.expval(circuit, features, weights), atol=TOL, rtol=0
    )


@pytest.mark.parametrize("name", CIRCUITS)
def test_parameter_shift_gradients_agree_with_pennylane_backprop(name, aer, pennylane):
    circuit = CIRCUITS[name]
    features, weights = batch(circuit)
    cotangent = np.random.default_rng(1).normal(size=len(features))
    values, vjp = aer.expval_vjp(circuit, features, weights, features_grad=True)
    expected_values, expected_vjp = pennylane.expval_vjp(circuit, features, weights, features_grad=True)
    got, expected = vjp(cotangent), expected_vjp(cotangent)
    np.testing.assert_allclose(values, expected_values, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.weights, expected.weights, atol=TOL, rtol=0)
    np.testing.assert_allclose(got.features, expected.features, atol=TOL, rtol=0)


def test_weight_gradients_alone_skip_the_features(aer, pennylane):
    circuit = CIRCUITS["generic-4q"]
    features, weights = batch(circuit)
    cotangent = np.linspace(-1.0, 1.0, len(features))
    got = aer.expval_vjp(circuit, features, weights)[1](cotangent)
    expected = pennylane.expval_vjp(circuit, features, weights)[1](cotangent)
    assert got.features is None
    np.testing.assert_allclose(got.weights, expected.weights, atol=TOL, rtol=0)


@pytest.mark.parametrize("name", ["readout-4q", "readout-6q", "generic-3q", "generic-5q"])
def test_readout_entropy_and_reduced_states_agree_with_pennylane(name, aer, pennylane):
    circuit = CIRCUITS[name]
    features, weights = batch(circuit)
    readout = [circuit.readout]
    np.testing.assert_allclose(
        aer.entropy(circuit, features, weights, readout), pennylane.entropy(circuit, features, weights, readout),
        atol=TOL, rtol=0,
    )
    pair = [circuit.readout, (circuit.readout + 1) % circuit.n_qubits]  # wire order matters
    np.testing.assert_allclose(
        aer.reduced_density_matrix(circuit, features, weights, pair),
        pennylane.reduced_density_matrix(circuit, features, weights, pair),
        atol=TOL, rtol=0,
    )


def test_a_batch_is_one_estimator_call_for_values_and_one_for_gradients(count_estimator_calls):
    backend = AerBackend()
    calls = count_estimator_calls(backend)
    circuit = CIRCUITS["readout-5q"]
    features, weights = batch(circuit, n_samples=40)
    backend.expval(circuit, features, weights)
    assert len(calls) == 1 and len(calls[0]) == 1
    backend.expval_vjp(circuit, features, weights, features_grad=True)[1](np.ones(len(features)))
    assert len(calls) == 2 and len(calls[1]) == 1
    n_parameters = circuit.n_weights + circuit.n_features
    assert np.shape(calls[1][0][2]) == (40, 1 + 2 * n_parameters, n_parameters)


def test_shots_give_values_within_five_sigma_of_exact(aer):
    circuit = CIRCUITS["readout-4q"]
    features, weights = batch(circuit, n_samples=50)
    shots = 2000
    exact = aer.expval(circuit, features, weights)
    sampled = AerBackend(shots=shots, seed=7).expval(circuit, features, weights)
    sigma = np.sqrt((1.0 - exact**2) / shots)
    assert np.all(np.abs(sampled - exact) <= 5.0 * sigma + 1e-12)
    assert not np.allclose(sampled, exact)
    np.testing.assert_array_equal(np.round((sampled + 1.0) * shots / 2.0, 6) % 1, 0.0)  # k of shots


@pytest.mark.parametrize("shots", [0, -5, 2.5, True])
def test_bad_shots_are_refused(shots):
    with pytest.raises(ConfigError, match="shots"):
        AerBackend(shots=shots)


def test_too_many_qubits_are_refused_naming_the_exact_backend(aer):
    wide = readout_circuit(24)  # 25 qubits
    with pytest.raises(IncompatibleComponentsError, match="exact"):
        aer.expval(wide, np.zeros((1, wide.n_features)), np.zeros(wide.n_weights))


def test_noise_beyond_the_density_matrix_limit_is_refused(aer):
    from qenc_bench.noise import Depolarizing

    circuit = readout_circuit(NOISY_MAX_QUBITS)
    with pytest.raises(IncompatibleComponentsError, match="density matrices"):
        aer.noisy_expval(circuit, np.zeros((1, circuit.n_features)), np.zeros(circuit.n_weights), Depolarizing(0.03))


def test_plugin_registers_aer_with_its_capabilities(pm, register_plugin):
    register_plugin(qenc_aer, "aer")
    spec = Registry.from_plugin_manager(pm).get("backend", "aer")
    caps = spec.capabilities
    assert (caps.gradients, caps.input_gradients, caps.noise, caps.entropy, caps.shots) == (True,) * 5
    assert isinstance(spec.factory(shots=None), AerBackend)


def test_importing_the_plugin_does_not_import_qiskit():
    probe = "import sys, qenc_aer; print(sorted(m for m in sys.modules if m.split('.')[0] in ('qiskit', 'qiskit_aer')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
