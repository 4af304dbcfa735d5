"""Depolarizing noise: one convention (qenc_bench.noise) in Aer and in PennyLane's
default.mixed, its limits, and the errors for asking a backend without noise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from qenc_bench import Circuit, Op
from qenc_bench.errors import ConfigError, IncompatibleComponentsError
from qenc_bench.model import ReadoutModel
from qenc_bench.noise import Depolarizing, parse_noise
from qenc_exact import ExactReadoutBackend
from qenc_pennylane.mixed import noisy_expval as pennylane_noisy_expval
from qenc_pennylane.mixed import two_qubit_depolarizing_kraus


class AngleFeatureMap:
    def __init__(self, n_qubits: int):
        self.n_qubits = n_qubits

    def feature_map(self) -> tuple[Op, ...]:
        return tuple(Op("RX", (j,), "feature", j) for j in range(self.n_qubits))


def readout_circuit(n_data: int) -> Circuit:
    return ReadoutModel().build(AngleFeatureMap(n_data))


def batch(circuit: Circuit, n_samples: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    features = rng.uniform(0.0, np.pi, size=(n_samples, circuit.n_features))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    return features, weights


@pytest.mark.parametrize("p", [0.03, 0.1])
@pytest.mark.parametrize("n_qubits", [3, 4, 5])
def test_aer_and_pennylane_default_mixed_agree(aer, n_qubits, p):
    circuit = readout_circuit(n_qubits - 1)
    features, weights = batch(circuit)
    noise = Depolarizing(p)
    np.testing.assert_allclose(
        aer.noisy_expval(circuit, features, weights, noise),
        pennylane_noisy_expval(circuit, features, weights, noise),
        atol=1e-6, rtol=0,
    )


def test_both_simulators_agree_on_a_circuit_with_cnot_and_cz(aer):
    ops = (Op("H", (0,)), Op("RY", (1,), "feature", 0), Op("CNOT", (0, 1)), Op("RZ", (2,), "weight", 0),
           Op("CZ", (1, 2)), Op("IsingXX", (2, 0), "feature", 1), Op("X", (1,)), Op("CNOT", (2, 1)))
    circuit = Circuit(3, ops, n_features=2, n_weights=1, readout=1)
    features, weights = batch(circuit)
    noise = Depolarizing(0.1)
    np.testing.assert_allclose(
        aer.noisy_expval(circuit, features, weights, noise),
        pennylane_noisy_expval(circuit, features, weights, noise),
        atol=1e-6, rtol=0,
    )


def test_zero_noise_is_the_clean_value(aer):
    circuit = readout_circuit(3)
    features, weights = batch(circuit)
    clean = aer.expval(circuit, features, weights)
    np.testing.assert_allclose(aer.noisy_expval(circuit, features, weights, Depolarizing(0.0)), clean, atol=1e-10)
    np.testing.assert_allclose(pennylane_noisy_expval(circuit, features, weights, Depolarizing(0.0)), clean, atol=1e-10)


def test_noise_shrinks_the_output_on_average(aer):
    circuit = readout_circuit(4)
    features, weights = batch(circuit, n_samples=30)
    sizes = [np.mean(np.abs(aer.noisy_expval(circuit, features, weights, Depolarizing(p)))) for p in (0.0, 0.03, 0.1)]
    assert sizes[0] > sizes[1] > sizes[2]


def test_noisy_runs_are_one_estimator_call_per_batch(aer, monkeypatch):
    circuit = readout_circuit(3)
    features, weights = batch(circuit, n_samples=20)
    noise = Depolarizing(0.05)
    aer.noisy_expval(circuit, features, weights, noise)  # builds the noisy estimator
    estimator = aer._noisy_estimators[noise]
    calls = []
    run = estimator.run
    monkeypatch.setattr(estimator, "run", lambda pubs, **kw: calls.append(1) or run(pubs, **kw))
    aer.noisy_expval(circuit, features, weights, noise)
    assert len(calls) == 1


def test_two_qubit_kraus_operators_form_the_depolarizing_channel():
    p = 0.1
    kraus = two_qubit_depolarizing_kraus(p)
    assert len(kraus) == 16
    np.testing.assert_allclose(sum(k.conj().T @ k for k in kraus), np.eye(4), atol=1e-12)
    rho = np.zeros((4, 4), complex)
    rho[0, 0] = 1.0
    out = sum(k @ rho @ k.conj().T for k in kraus)
    # (1 - 16p/15) rho + (16p/15) I/4: Aer's depolarizing_error(16p/15, 2)
    lam = Depolarizing(p).aer_lambda_2q
    np.testing.assert_allclose(out, (1 - lam) * rho + lam * np.eye(4) / 4, atol=1e-12)


@pytest.mark.parametrize("p", [-0.01, 0.76, 1.0])
def test_depolarizing_probability_is_validated(p):
    with pytest.raises(ConfigError, match="depolarizing probability"):
        Depolarizing(p)


def test_noise_string_gives_one_level_each():
    levels = parse_noise("depolarizing:0.03,0.05,0.10")
    assert [d.p for d in levels] == [0.03, 0.05, 0.10]
    assert levels[0].aer_lambda_1q == pytest.approx(0.04)
    assert levels[0].aer_lambda_2q == pytest.approx(0.032)


@pytest.mark.parametrize(
    "text", ["amplitude:0.1", "depolarizing", "depolarizing:", "depolarizing:a,b", "depolarizing:0.9"]
)
def test_bad_noise_string_is_a_config_error(text):
    with pytest.raises(ConfigError):
        parse_noise(text)


def test_a_backend_without_noise_refuses_it_naming_aer():
    class Clean(ExactReadoutBackend):
        capabilities = replace(ExactReadoutBackend.capabilities, noise=False)

    circuit = readout_circuit(2)
    with pytest.raises(IncompatibleComponentsError, match="aer"):
        Clean().check_noise(circuit)
