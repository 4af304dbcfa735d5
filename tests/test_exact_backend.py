"""The closed-form ``exact`` backend against PennyLane's statevector simulation.

Every circuit of the readout family (a product-state feature map of RX/RY/RZ/H/X on the data
wires, the readout prepared by X then H, one IsingXX then IsingZZ coupling of each data wire
to the readout, a final H) must give the same values, gradients and entanglement entropies
on both backends; circuits outside the family must be refused before anything runs.
"""

from __future__ import annotations

import numpy as np
import pennylane as qml
import pytest

from qenc_bench import Circuit, Op, Split
from qenc_bench.errors import IncompatibleComponentsError
from qenc_bench.model import READOUT_FAMILY, ReadoutModel
from qenc_encoders import AngleEncoder
from qenc_exact import ExactReadoutBackend

N_SAMPLES = 5
TOL = 1e-10
SINGLE = ("RX", "RY", "RZ", "H", "X")


@pytest.fixture(scope="module")
def exact() -> ExactReadoutBackend:
    return ExactReadoutBackend()


# --- random circuits of the readout family ------------------------------------------------


def random_family_circuit(rng: np.random.Generator, n_data: int, *, readout: int | None = None,
                          n_features: int = 4) -> Circuit:
    """A random circuit the exact backend must solve.

    Each data wire gets 0..4 random single-qubit gates (angles from feature columns or from
    weights, weights sometimes shared); the gates of different wires and the readout's X, H
    are interleaved at random; the couplings come in random order with random wire order,
    and a weight may be shared between a coupling and a feature-map gate.
    """
    n_qubits = n_data + 1
    r = int(rng.integers(n_qubits)) if readout is None else readout
    data = [w for w in range(n_qubits) if w != r]
    n_couplings = 2 * n_data
    n_extra = 3
    n_weights = n_couplings + n_extra

    def param(gate: str, wire: int) -> Op:
        if gate in ("H", "X"):
            return Op(gate, (wire,))
        if rng.random() < 0.6:
            return Op(gate, (wire,), "feature", int(rng.integers(n_features)))
        return Op(gate, (wire,), "weight", int(rng.integers(n_weights)))  # may share a coupling's weight

    queues = [[param(str(rng.choice(SINGLE)), w) for _ in range(int(rng.integers(0, 5)))] for w in data]
    if not any(op.source == "feature" for q in queues for op in q):  # a feature map reads features
        k = int(rng.integers(n_data))
        queues[k].append(Op("RY", (data[k],), "feature", int(rng.integers(n_features))))
    queues.append([Op("X", (r,)), Op("H", (r,))])
    prep: list[Op] = []
    while any(queues):  # interleave, keeping each wire's order
        q = [q for q in queues if q][int(rng.integers(sum(bool(q) for q in queues)))]
        prep.append(q.pop(0))

    widx = rng.permutation(n_couplings)
    couplings = []
    for gate, base in (("IsingXX", 0), ("IsingZZ", n_data)):
        for k in rng.permutation(n_data):
            wires = (data[k], r) if rng.random() < 0.5 else (r, data[k])
            couplings.append(Op(gate, wires, "weight", int(widx[base + k])))
    return Circuit(n_qubits=n_qubits, ops=tuple(prep + couplings + [Op("H", (r,))]),
                   n_features=n_features, n_weights=n_weights, readout=r)


def angle_model_circuit(rng: np.random.Generator, n_data: int) -> tuple[Circuit, np.ndarray]:
    """The paper's model (ReadoutModel on a fitted angle encoder) and its feature matrix."""
    x = rng.uniform(0.0, 1.0, size=(N_SAMPLES, n_data))
    encoder = AngleEncoder().fit(Split(x, np.array([0, 1, 0, 1, 0])), Split(x, np.array([0, 1, 0, 1, 0])), None)
    circuit = ReadoutModel().build(encoder)
    assert circuit.family == READOUT_FAMILY and circuit.readout == n_data
    return circuit, encoder.transform(x)


def random_inputs(rng: np.random.Generator, circuit: Circuit) -> tuple[np.ndarray, np.ndarray]:
    features = rng.uniform(-np.pi, 2 * np.pi, size=(N_SAMPLES, circuit.n_features))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    return features, weights


def cases(sizes=range(1, 9), reps=3):
    """(id, circuit, features, weights): random family circuits and the angle model."""
    out = []
    for n_data in sizes:
        for rep in range(reps):
            rng = np.random.default_rng(1000 * n_data + rep)
            circuit = random_family_circuit(rng, n_data, readout=n_data if rep == 0 else None)
            out.append((f"random-{n_data}-{rep}", circuit, *random_inputs(rng, circuit)))
        rng = np.random.default_rng(77 + n_data)
        circuit, features = angle_model_circuit(rng, n_data)
        out.append((f"angle-{n_data}", circuit, features, ReadoutModel().init_weights(circuit, rng)))
    return out


CASES = cases()
IDS = [c[0] for c in CASES]
#: 11 data qubits + readout; kept apart so one PennyLane failure at 12 qubits is one test
CASES12 = cases(sizes=[11], reps=2)


def test_the_random_circuits_exercise_the_whole_family():
    ops = [op for _, c, _, _ in CASES + CASES12 for op in c.ops]
    gates = {op.gate for op in ops}
    assert gates == set(SINGLE) | {"IsingXX", "IsingZZ"}
    sources = {(op.gate, op.source) for op in ops if op.gate in ("RX", "RY", "RZ")}
    assert sources == {(g, s) for g in ("RX", "RY", "RZ") for s in ("feature", "weight")}
    assert [c.n_qubits for _, c, _, _ in CASES12] == [12, 12, 12]
    assert {c.readout == c.n_qubits - 1 for _, c, _, _ in CASES} == {True, False}


@pytest.mark.parametrize("case", CASES12, ids=[c[0] for c in CASES12])
def test_12_qubits_match_pennylane(exact, pennylane, case):
    """11 data qubits and the readout: values, both gradients and the readout's and a half
    cut's entropy, exact against PennyLane."""
    _, circuit, features, weights = case
    cot = np.random.default_rng(5).normal(size=N_SAMPLES)
    values, vjp = exact.expval_vjp(circuit, features, weights, features_grad=True)
    np.testing.assert_allclose(values, exact.expval(circuit, features, weights), rtol=0, atol=0)
    pl_values, pl_vjp = pennylane.expval_vjp(circuit, features, weights, features_grad=True)
    np.testing.assert_allclose(values, pl_values, rtol=0, atol=TOL)
    g, pl_g = vjp(cot), pl_vjp(cot)
    np.testing.assert_allclose(g.weights, pl_g.weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(g.features, pl_g.features, rtol=0, atol=TOL)
    for wires in ([circuit.readout], list(range(6))):
        rho = pennylane.reduced_density_matrix(circuit, features, weights, wires)
        np.testing.assert_allclose(exact.entropy(circuit, features, weights, wires), entropy_of(rho),
                                   rtol=0, atol=TOL, err_msg=f"wires {wires}")


# --- values and gradients -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "circuit", "features", "weights"), CASES, ids=IDS)
def test_expval_matches_pennylane(exact, pennylane, name, circuit, features, weights):
    exact.check(circuit)
    got = exact.expval(circuit, features, weights)
    want = pennylane.expval(circuit, features, weights)
    assert got.shape == (N_SAMPLES,)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    assert np.all(np.abs(got) <= 1 + 1e-12)


@pytest.mark.parametrize(("name", "circuit", "features", "weights"), CASES, ids=IDS)
def test_gradients_match_pennylane(exact, pennylane, name, circuit, features, weights):
    cot = np.random.default_rng(5).normal(size=N_SAMPLES)
    values, vjp = exact.expval_vjp(circuit, features, weights, features_grad=True)
    pl_values, pl_vjp = pennylane.expval_vjp(circuit, features, weights, features_grad=True)
    np.testing.assert_allclose(values, pl_values, rtol=0, atol=TOL)
    g, pl_g = vjp(cot), pl_vjp(cot)
    assert g.weights.shape == (circuit.n_weights,) and g.features.shape == features.shape
    np.testing.assert_allclose(g.weights, pl_g.weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(g.features, pl_g.features, rtol=0, atol=TOL)
    # without features_grad: the same weight gradient and no feature gradient
    values2, vjp2 = exact.expval_vjp(circuit, features, weights)
    g2 = vjp2(cot)
    assert g2.features is None
    np.testing.assert_allclose(values2, values, rtol=0, atol=0)
    np.testing.assert_allclose(g2.weights, g.weights, rtol=0, atol=TOL)


@pytest.mark.parametrize(("name", "circuit", "features", "weights"), CASES, ids=IDS)
def test_gradients_match_central_differences(exact, name, circuit, features, weights):
    h = 1e-6
    cot = np.random.default_rng(6).normal(size=N_SAMPLES)
    _, vjp = exact.expval_vjp(circuit, features, weights, features_grad=True)
    g = vjp(cot)

    def loss(f, w):
        return float(cot @ exact.expval(circuit, f, w))

    fd_w = np.empty(circuit.n_weights)
    for k in range(circuit.n_weights):
        e = np.zeros(circuit.n_weights)
        e[k] = h
        fd_w[k] = (loss(features, weights + e) - loss(features, weights - e)) / (2 * h)
    np.testing.assert_allclose(g.weights, fd_w, rtol=0, atol=1e-6)
    fd_f = np.empty_like(features)
    for i in range(features.shape[0]):
        for k in range(features.shape[1]):
            e = np.zeros_like(features)
            e[i, k] = h
            fd_f[i, k] = (loss(features + e, weights) - loss(features - e, weights)) / (2 * h)
    np.testing.assert_allclose(g.features, fd_f, rtol=0, atol=1e-6)
    assert np.abs(g.weights).max() > 1e-3  # the check is not vacuous


def test_shared_feature_column_and_shared_weight_accumulate(exact, pennylane):
    """One feature column on two wires and one weight in two couplings: gradients add up."""
    ops = (Op("X", (2,)), Op("H", (2,)),
           Op("RY", (0,), "feature", 0), Op("RX", (1,), "feature", 0), Op("RZ", (1,), "weight", 0),
           Op("IsingXX", (0, 2), "weight", 0), Op("IsingXX", (1, 2), "weight", 1),
           Op("IsingZZ", (0, 2), "weight", 1), Op("IsingZZ", (2, 1), "weight", 1), Op("H", (2,)))
    circuit = Circuit(n_qubits=3, ops=ops, n_features=1, n_weights=2, readout=2)
    rng = np.random.default_rng(3)
    features, weights = rng.uniform(0, 3, size=(N_SAMPLES, 1)), rng.uniform(-3, 3, size=2)
    cot = rng.normal(size=N_SAMPLES)
    g = exact.expval_vjp(circuit, features, weights, features_grad=True)[1](cot)
    pl = pennylane.expval_vjp(circuit, features, weights, features_grad=True)[1](cot)
    np.testing.assert_allclose(g.weights, pl.weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(g.features, pl.features, rtol=0, atol=TOL)


def test_closed_form_for_angle_encoding(exact):
    """Angle model with XX weights 0 and ZZ weights pi/2: <Z> = -(i^n) prod cos(pi x_j) real part."""
    rng = np.random.default_rng(0)
    circuit, features = angle_model_circuit(rng, 4)
    weights = np.concatenate([np.zeros(4), np.full(4, np.pi / 2)])
    want = -np.real(1j**4) * np.prod(np.cos(features), axis=1)
    np.testing.assert_allclose(exact.expval(circuit, features, weights), want, rtol=0, atol=1e-14)
    np.testing.assert_allclose(exact.expval(circuit, features, np.zeros(8)), -1.0, rtol=0, atol=1e-14)


# --- entanglement entropy -----------------------------------------------------------------


def entropy_of(rho: np.ndarray) -> np.ndarray:
    """-tr(rho log2 rho) per matrix, computed here independently of qenc_bench.metrics."""
    out = []
    for e in np.linalg.eigvalsh(rho):
        e = e[e > 1e-14]
        out.append(float(-(e * np.log2(e)).sum()))
    return np.array(out)


@pytest.mark.parametrize(("name", "circuit", "features", "weights"), CASES, ids=IDS)
def test_readout_entropy_matches_pennylane(exact, pennylane, name, circuit, features, weights):
    got = exact.entropy(circuit, features, weights, [circuit.readout])
    rho = pennylane.reduced_density_matrix(circuit, features, weights, [circuit.readout])
    assert rho.shape == (N_SAMPLES, 2, 2)
    np.testing.assert_allclose(np.trace(rho, axis1=1, axis2=2).real, 1.0, atol=1e-12)
    np.testing.assert_allclose(got, entropy_of(rho), rtol=0, atol=TOL)
    pl_entropy = np.array([float(qml.math.vn_entropy(r, indices=[0], base=2)) for r in rho])
    np.testing.assert_allclose(got, pl_entropy, rtol=0, atol=TOL)
    np.testing.assert_allclose(pennylane.entropy(circuit, features, weights, [circuit.readout]), got,
                               rtol=0, atol=TOL)
    assert np.all((got >= -1e-12) & (got <= 1 + 1e-12))


@pytest.mark.parametrize(("name", "circuit", "features", "weights"), CASES, ids=IDS)
def test_half_cut_entropy_matches_pennylane(exact, pennylane, name, circuit, features, weights):
    n = circuit.n_qubits
    first_half = list(range(n // 2)) or [0]
    cuts = [first_half, [w for w in range(n) if w not in first_half]]
    for wires in cuts:
        if not wires:
            continue
        got = exact.entropy(circuit, features, weights, wires)
        rho = pennylane.reduced_density_matrix(circuit, features, weights, wires)
        np.testing.assert_allclose(got, entropy_of(rho), rtol=0, atol=TOL, err_msg=f"cut {wires}")


def test_half_cut_with_the_readout_inside_and_outside(exact, pennylane):
    """The first half of a 10-qubit circuit, once holding the readout and once not, against
    PennyLane; the complementary cut of the same state has the same entropy."""
    for readout in (0, 9):
        rng = np.random.default_rng(40 + readout)
        circuit = random_family_circuit(rng, 9, readout=readout)
        features, weights = random_inputs(rng, circuit)
        half = list(range(5))
        assert (circuit.readout in half) == (readout == 0)
        got = exact.entropy(circuit, features, weights, half)
        rho = pennylane.reduced_density_matrix(circuit, features, weights, half)
        assert rho.shape == (N_SAMPLES, 32, 32)
        np.testing.assert_allclose(got, entropy_of(rho), rtol=0, atol=TOL)
        other = exact.entropy(circuit, features, weights, list(range(5, 10)))
        np.testing.assert_allclose(other, got, rtol=0, atol=TOL)
        assert np.all(got > 1e-3)  # the cut is entangled: the check is not vacuous


def test_random_subsets_entropy_matches_pennylane(exact, pennylane):
    rng = np.random.default_rng(11)
    circuit = random_family_circuit(rng, 6)
    features, weights = random_inputs(rng, circuit)
    for _ in range(6):
        k = int(rng.integers(1, circuit.n_qubits))
        wires = sorted(rng.choice(circuit.n_qubits, size=k, replace=False).tolist())
        got = exact.entropy(circuit, features, weights, wires)
        rho = pennylane.reduced_density_matrix(circuit, features, weights, wires)
        np.testing.assert_allclose(got, entropy_of(rho), rtol=0, atol=TOL, err_msg=f"wires {wires}")


# --- refusals -----------------------------------------------------------------------------


def _readout_ops(n: int, r: int) -> list[Op]:
    return ([Op("IsingXX", (j, r), "weight", j) for j in range(n)]
            + [Op("IsingZZ", (j, r), "weight", n + j) for j in range(n)])


def refused_circuits() -> dict[str, Circuit]:
    n, r = 2, 2
    feature_map = [Op("RX", (0,), "feature", 0), Op("RX", (1,), "feature", 1)]
    prep = [Op("X", (r,)), Op("H", (r,))]

    def circuit(ops, n_weights=2 * n):
        return Circuit(n_qubits=n + 1, ops=tuple(ops), n_features=2, n_weights=n_weights, readout=r,
                       family=READOUT_FAMILY)

    encoder = AngleEncoder().fit(Split(np.zeros((4, 2)), np.array([0, 1, 0, 1])), None, None)
    return {
        "cnot between data qubits": circuit(prep + feature_map + [Op("CNOT", (0, 1))] + _readout_ops(n, r) + [Op("H", (r,))]),
        "cz between data qubits": circuit(prep + feature_map + [Op("CZ", (0, 1))] + _readout_ops(n, r) + [Op("H", (r,))]),
        "two coupling layers": ReadoutModel(layers=2).build(encoder),
        "readout prepared by H only": circuit([Op("H", (r,))] + feature_map + _readout_ops(n, r) + [Op("H", (r,))]),
        "readout prepared by H then X": circuit([Op("H", (r,)), Op("X", (r,))] + feature_map + _readout_ops(n, r) + [Op("H", (r,))]),
        "readout with a rotation": circuit(prep + [Op("RY", (r,), "feature", 0)] + feature_map + _readout_ops(n, r) + [Op("H", (r,))]),
        "data gate after couplings": circuit(prep + feature_map + _readout_ops(n, r) + [Op("RX", (0,), "feature", 0), Op("H", (r,))]),
        "data gate after final H": circuit(prep + feature_map + _readout_ops(n, r) + [Op("H", (r,)), Op("RZ", (1,), "feature", 1)]),
        "missing final H": circuit(prep + feature_map + _readout_ops(n, r)),
        "feature-valued coupling": circuit(prep + feature_map + [Op("IsingXX", (0, r), "feature", 0)]
                                           + _readout_ops(n, r)[1:] + [Op("H", (r,))]),
        "coupling between data qubits": circuit(prep + feature_map + [Op("IsingZZ", (0, 1), "weight", 0)]
                                                + _readout_ops(n, r) + [Op("H", (r,))]),
        "XX after ZZ": circuit(prep + feature_map + _readout_ops(n, r)[n:] + _readout_ops(n, r)[:n] + [Op("H", (r,))]),
    }


REFUSED = refused_circuits()


@pytest.mark.parametrize("reason", sorted(REFUSED))
def test_circuits_outside_the_family_are_refused(exact, pennylane, reason):
    circuit = REFUSED[reason]
    with pytest.raises(IncompatibleComponentsError, match="pennylane"):
        exact.check(circuit)
    features = np.full((3, circuit.n_features), 0.3)
    weights = np.full(circuit.n_weights, 0.2)
    with pytest.raises(IncompatibleComponentsError):
        exact.expval(circuit, features, weights)
    with pytest.raises(IncompatibleComponentsError):
        exact.expval_vjp(circuit, features, weights)
    with pytest.raises(IncompatibleComponentsError):
        exact.entropy(circuit, features, weights, [circuit.readout])
    # PennyLane does run it: the refusal is about the family, not a malformed circuit
    assert np.all(np.isfinite(pennylane.expval(circuit, features, weights)))


def test_the_base_circuit_of_the_refusals_is_accepted(exact, pennylane):
    """The refusal cases differ from this accepted circuit in one respect each."""
    n, r = 2, 2
    ops = ([Op("X", (r,)), Op("H", (r,)), Op("RX", (0,), "feature", 0), Op("RX", (1,), "feature", 1)]
           + _readout_ops(n, r) + [Op("H", (r,))])
    circuit = Circuit(n_qubits=3, ops=tuple(ops), n_features=2, n_weights=4, readout=r)
    features, weights = np.full((3, 2), 0.3), np.array([0.2, -0.4, 1.1, 0.7])
    exact.check(circuit)
    np.testing.assert_allclose(exact.expval(circuit, features, weights),
                               pennylane.expval(circuit, features, weights), rtol=0, atol=TOL)


# --- scale --------------------------------------------------------------------------------


def test_785_qubits(exact):
    """ReadoutModel on angle encoding of all 784 MNIST-sized pixels: 785 qubits, O(n)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 0.05, size=(4, 784))
    encoder = AngleEncoder().fit(Split(x, np.array([0, 1, 0, 1])), Split(x, np.array([0, 1, 0, 1])), None)
    circuit = ReadoutModel().build(encoder)
    assert circuit.n_qubits == 785 and circuit.n_weights == 2 * 784
    features = encoder.transform(x)
    weights = ReadoutModel().init_weights(circuit, rng)
    out = exact.expval(circuit, features, weights)
    assert out.shape == (4,) and np.all(np.isfinite(out)) and np.all(np.abs(out) <= 1.0)
    values, vjp = exact.expval_vjp(circuit, features, weights, features_grad=True)
    g = vjp(np.ones(4))
    np.testing.assert_allclose(values, out, rtol=0, atol=0)
    assert np.all(np.isfinite(g.weights)) and np.all(np.isfinite(g.features))
    ent = exact.entropy(circuit, features, weights, [circuit.readout])
    assert ent.shape == (4,) and np.all((ent >= 0) & (ent <= 1))
    # a non-trivial closed form at full size: XX = 0, ZZ = pi/2 gives -prod cos(pi x_j) (784 = 0 mod 4)
    special = np.concatenate([np.zeros(784), np.full(784, np.pi / 2)])
    want = -np.prod(np.cos(features), axis=1)
    assert np.all(np.abs(want) > 0.01)
    np.testing.assert_allclose(exact.expval(circuit, features, special), want, rtol=1e-12, atol=0)


def test_pennylane_gradients_over_many_chunks_match_the_exact_backend():
    """Batches larger than one gradient chunk take the bounded-memory path."""
    import qenc_pennylane.backend as pennylane_backend

    rng = np.random.default_rng(11)
    circuit = ReadoutModel().build(AngleEncoder().fit(Split(rng.uniform(0, 1, (4, 11)), np.array([0, 1, 0, 1])), None))
    backend = pennylane_backend.PennyLaneBackend()
    n = 3 * (pennylane_backend.GRADIENT_AMPLITUDE_BUDGET >> circuit.n_qubits) // 2
    assert len(backend._chunks(circuit, n, pennylane_backend.GRADIENT_AMPLITUDE_BUDGET)) > 1
    features, weights, cotangent = rng.uniform(0, 3, (n, 11)), rng.uniform(-3, 3, circuit.n_weights), rng.normal(size=n)
    values, vjp = backend.expval_vjp(circuit, features, weights, features_grad=True)
    exact_values, exact_vjp = ExactReadoutBackend().expval_vjp(circuit, features, weights, features_grad=True)
    np.testing.assert_allclose(values, exact_values, atol=1e-10)
    got, want = vjp(cotangent), exact_vjp(cotangent)
    np.testing.assert_allclose(got.weights, want.weights, atol=1e-9)
    np.testing.assert_allclose(got.features, want.features, atol=1e-10)
