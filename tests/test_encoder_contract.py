"""The encoder contract, run on every registered encoder, and closed-form state checks.

Every encoder the registry knows (so a new one is covered without editing this file) is
fitted on a small real digits set and checked: qubit count, feature matrix shape and
finiteness, the feature map's wires and columns, determinism, a readout-model circuit the
PennyLane backend evaluates, and ``input_vjp`` against finite differences of ``transform``.
Then the states of the feature maps alone are compared with states written down in numpy
(and, for ``iqp``, with Qiskit's ZZFeatureMap).
"""

from __future__ import annotations

import json
from functools import reduce

import numpy as np
import pytest

from qenc_bench import Circuit, Encoder, FitContext, Op, Split
from qenc_bench.circuit import GATES
from qenc_bench.errors import ConfigError
from qenc_bench.model import ReadoutModel
from qenc_bench.plugins import load_registry
from qenc_bench.prepare import prepare

REGISTRY = load_registry()
ENCODERS = REGISTRY.names("encoder")
FIRST_PARTY = {"angle", "atp", "amplitude", "sqe", "pca", "dense-angle", "iqp"}


def _mock_score(encoder: Encoder) -> float:
    """Trains nothing: a deterministic stand-in for validation accuracy."""
    return encoder.n_qubits / 10


@pytest.fixture(scope="module")
def digits():
    from qenc_datasets.digits import DigitsDataset

    raw = DigitsDataset().load()
    return prepare(raw, (0, 1), grid=3, train_size=40, test_size=20, seed=0)


def _fit(name: str, data, **options) -> Encoder:
    encoder = REGISTRY.get("encoder", name).factory(**options)
    encoder.name = name
    return encoder.fit(data.train, data.validation, FitContext(seed=0, score=_mock_score))


@pytest.fixture(scope="module")
def fitted(digits):
    cache: dict[str, Encoder] = {}

    def get(name: str) -> Encoder:
        if name not in cache:
            cache[name] = _fit(name, digits)
        return cache[name]

    return get


def _n_columns(ops: tuple[Op, ...]) -> int:
    return max((op.index + 1 for op in ops if op.source == "feature"), default=0)


def _implements_input_vjp(encoder: Encoder) -> bool:
    return type(encoder).input_vjp is not Encoder.input_vjp


def test_first_party_encoders_are_registered():
    assert FIRST_PARTY <= set(ENCODERS)


@pytest.mark.parametrize("name", ENCODERS)
def test_fit_transform_and_feature_map(name, fitted, digits):
    encoder = fitted(name)
    assert isinstance(encoder.n_qubits, int) and encoder.n_qubits >= 1
    ops = encoder.feature_map()
    assert all(isinstance(op, Op) and op.gate in GATES for op in ops)
    assert all(0 <= w < encoder.n_qubits for op in ops for w in op.wires)
    assert all(op.source in (None, "feature") for op in ops), "a feature map reads no weights"
    n_columns = _n_columns(ops)
    assert {op.index for op in ops if op.source == "feature"} == set(range(n_columns))
    Circuit(encoder.n_qubits, ops, n_columns, 0, 0)  # validates wires and columns
    for split in (digits.train, digits.validation, digits.test):
        features = encoder.transform(split.x)
        assert features.shape == (len(split.x), n_columns)
        assert np.all(np.isfinite(features))
    assert isinstance(encoder.info(), dict)
    json.dumps(encoder.info())


@pytest.mark.parametrize("name", ENCODERS)
def test_fit_is_deterministic(name, fitted, digits):
    again = _fit(name, digits)
    np.testing.assert_array_equal(again.transform(digits.test.x), fitted(name).transform(digits.test.x))
    assert again.feature_map() == fitted(name).feature_map()


@pytest.fixture(scope="module")
def pennylane_backend():
    return REGISTRY.get("backend", "pennylane").factory()


@pytest.mark.parametrize("name", ENCODERS)
def test_readout_model_runs_on_pennylane(name, fitted, digits, pennylane_backend):
    encoder = fitted(name)
    circuit = ReadoutModel().build(encoder)
    assert circuit.n_qubits == encoder.n_qubits + 1
    weights = ReadoutModel().init_weights(circuit, np.random.default_rng(0))
    values = pennylane_backend.expval(circuit, encoder.transform(digits.test.x), weights)
    assert values.shape == (len(digits.test.x),)
    assert np.all(np.abs(values) <= 1 + 1e-12)


@pytest.mark.parametrize("name", ENCODERS)
def test_input_vjp_matches_finite_differences(name, fitted):
    encoder = fitted(name)
    if not _implements_input_vjp(encoder):
        pytest.skip(f"{name} has no input gradient")
    rng = np.random.default_rng(1)
    x = rng.uniform(0.05, 0.95, size=(5, encoder.n_features_in_))  # away from zero pixels
    cotangent = rng.normal(size=encoder.transform(x).shape)
    step = 1e-6
    numeric = np.empty_like(x)
    for j in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, j] = step
        diff = (encoder.transform(x + e) - encoder.transform(x - e)) / (2 * step)
        numeric[:, j] = np.sum(diff * cotangent, axis=1)
    np.testing.assert_allclose(encoder.input_vjp(x, cotangent), numeric, atol=1e-6, rtol=0)


def test_amplitude_input_vjp_is_one_sided_at_a_zero_pixel(fitted):
    """Where a subtree norm is zero, the derivative is the one in the increasing direction."""
    encoder = fitted("amplitude")
    rng = np.random.default_rng(2)
    x = rng.uniform(0.2, 0.9, size=(1, 9))
    x[0, 1] = 0.0  # right leaf of its pair: R = 0
    x[0, 4] = 0.0  # left leaf of its pair: L = 0
    cotangent = rng.normal(size=encoder.transform(x).shape)
    step = 1e-7
    shifted = encoder.transform(x + step * np.eye(9))  # row j: pixel j increased
    forward = (shifted - encoder.transform(x)) @ cotangent[0] / step
    np.testing.assert_allclose(encoder.input_vjp(x, cotangent)[0], forward, atol=1e-4)


# -- closed-form states of the feature maps ---------------------------------------------


def feature_map_states(encoder: Encoder, x: np.ndarray) -> np.ndarray:
    """PennyLane statevectors (N, 2^n) of the encoder's feature map alone (wire 0 most significant)."""
    import pennylane as qml

    from qenc_pennylane.backend import apply_circuit

    features = encoder.transform(x)
    circuit = Circuit(encoder.n_qubits, encoder.feature_map(), features.shape[1], 0, 0)

    @qml.qnode(qml.device("default.qubit", wires=encoder.n_qubits))
    def state(f):
        apply_circuit(circuit, f, np.zeros(0))
        return qml.state()

    return np.reshape(state(features), (len(x), -1))


def rx(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -1j * s], [-1j * s, c]]).transpose(2, 0, 1)


def ry(t):
    c, s = np.cos(t / 2), np.sin(t / 2)
    return np.array([[c, -s], [s, c]]).transpose(2, 0, 1).astype(complex)


def rz(t):
    z = np.zeros_like(t)
    return np.array([[np.exp(-0.5j * t), z], [z, np.exp(0.5j * t)]]).transpose(2, 0, 1)


def product_state(qubits: list[np.ndarray]) -> np.ndarray:
    """Batched tensor product of one-qubit states (N, 2), qubit 0 first (most significant)."""
    return reduce(lambda a, b: np.einsum("ni,nj->nij", a, b).reshape(len(a), -1), qubits)


def one_qubit(gates_in_time_order: list[np.ndarray]) -> np.ndarray:
    state = np.zeros((len(gates_in_time_order[0]), 2), dtype=complex)
    state[:, 0] = 1.0
    for gate in gates_in_time_order:
        state = np.einsum("nij,nj->ni", gate, state)
    return state


def padded(x: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((len(x), width))
    out[:, : x.shape[1]] = x
    return out


@pytest.fixture(scope="module")
def samples(digits):
    rng = np.random.default_rng(3)
    return np.vstack([digits.test.x[:4], rng.uniform(0, 1, size=(3, digits.n_features))])


def test_angle_state(fitted, samples):
    expected = product_state([one_qubit([rx(np.pi * samples[:, j])]) for j in range(samples.shape[1])])
    np.testing.assert_allclose(feature_map_states(fitted("angle"), samples), expected, atol=1e-10)


def test_amplitude_state_is_the_normalised_padded_vector(fitted, samples):
    encoder = fitted("amplitude")
    assert encoder.n_qubits == 4
    vector = padded(samples, 16)
    expected = vector / np.linalg.norm(vector, axis=1, keepdims=True)
    np.testing.assert_allclose(feature_map_states(encoder, samples), expected, atol=1e-10)


def test_amplitude_of_the_zero_sample_is_all_zeros_state(fitted):
    state = feature_map_states(fitted("amplitude"), np.zeros((1, 9)))
    np.testing.assert_allclose(state[0], np.eye(16)[0], atol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_amplitude_state_for_other_widths(d):
    rng = np.random.default_rng(d)
    x = rng.uniform(0, 1, size=(4, d))
    x[1, : d // 2] = 0.0  # dark pixels: zero subtrees (no zero sample; that has its own test)
    encoder = REGISTRY.get("encoder", "amplitude").factory()
    encoder.fit(Split(x, np.zeros(4, dtype=int)), None, None)
    assert encoder.n_qubits == max(1, int(np.ceil(np.log2(d))))
    vector = padded(x, 2**encoder.n_qubits)
    expected = vector / np.linalg.norm(vector, axis=1, keepdims=True)
    np.testing.assert_allclose(feature_map_states(encoder, x), expected, atol=1e-10)


def test_sqe_state(fitted, samples):
    a = np.pi * padded(samples, 9)
    hadamard = np.broadcast_to(np.array([[1, 1], [1, -1]]) / np.sqrt(2), (len(samples), 2, 2))
    expected = product_state(
        [one_qubit([hadamard, rz(a[:, 3 * q]), ry(a[:, 3 * q + 1]), rz(a[:, 3 * q + 2])]) for q in range(3)]
    )
    np.testing.assert_allclose(feature_map_states(fitted("sqe"), samples), expected, atol=1e-10)


def test_dense_angle_state(fitted, samples):
    a = np.pi * padded(samples, 10)  # 9 features: the fifth pair is zero-padded
    expected = product_state([one_qubit([ry(a[:, 2 * q]), rz(a[:, 2 * q + 1])]) for q in range(5)])
    np.testing.assert_allclose(feature_map_states(fitted("dense-angle"), samples), expected, atol=1e-10)


def test_iqp_state_equals_qiskit_zz_feature_map(fitted, samples):
    from qiskit.circuit.library import zz_feature_map
    from qiskit.quantum_info import Statevector

    encoder = fitted("iqp")
    d = samples.shape[1]
    template = zz_feature_map(d, reps=2, entanglement="linear")
    ours = feature_map_states(encoder, samples)
    for row, state in zip(samples, ours, strict=True):
        bound = template.assign_parameters(dict(zip(template.parameters, np.pi * row, strict=True)))
        theirs = Statevector(bound).reverse_qargs().data  # Qiskit's qubit 0 is least significant
        assert abs(abs(np.vdot(theirs, state)) - 1) < 1e-10


# -- pca ----------------------------------------------------------------------------------


def test_pca_matches_sklearn_up_to_sign_and_rescales_training_to_unit_range(fitted, digits):
    from sklearn.decomposition import PCA

    encoder = fitted("pca")
    assert encoder.n_qubits == 3  # ceil(sqrt(9))
    scores = PCA(n_components=3).fit(digits.train.x).transform(digits.train.x)
    ours = encoder._scores(digits.train.x)
    np.testing.assert_allclose(np.abs(ours), np.abs(scores), atol=1e-10)
    features = encoder.transform(digits.train.x)
    np.testing.assert_allclose(features.min(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(features.max(axis=0), np.pi, atol=1e-12)
    loadings = encoder.components_
    assert np.all(loadings[np.arange(3), np.argmax(np.abs(loadings), axis=1)] > 0)


def test_pca_refuses_more_components_than_features_or_samples(digits):
    with pytest.raises(ConfigError, match="k=10"):
        _fit("pca", digits, k=10)


def test_every_sqe_feature_reaches_the_state(fitted, samples):
    encoder = fitted("sqe")
    base = feature_map_states(encoder, samples[:1])
    for j in range(samples.shape[1]):
        moved = samples[:1].copy()
        moved[0, j] = 1.0 - moved[0, j] if abs(moved[0, j] - 0.5) > 0.1 else moved[0, j] + 0.3
        overlap = abs(np.vdot(base[0], feature_map_states(encoder, moved)[0]))
        assert overlap < 1 - 1e-6, f"feature {j} does not change the state"
