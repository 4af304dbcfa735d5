"""The encoding metrics plugin (qenc_metrics): each metric against values known in closed form
or from the literature, its product-state fast path against Aer's statevectors, its options,
its reporter, and one comparison end to end.

Expected values are derived here, in the tests' docstrings and code, never copied from the
plugin's output; statistical checks use tolerances computed from the sample sizes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import unitary_group

from qenc_bench import (
    Circuit,
    ConfigError,
    Encoder,
    FitContext,
    MetricContext,
    MetricUnavailable,
    Op,
    ReadoutModel,
    Split,
    TrainConfig,
)
from qenc_bench.harness import CompareConfig, compare
from qenc_bench.harness.metrics import feature_map_circuit
from qenc_bench.plugins import load_registry
from qenc_bench.testing import small_digits
from qenc_encoders import AngleEncoder
from qenc_metrics import EncodingMetricsReporter, EntanglingCapability, Expressibility, KernelAlignment, Trainability
from qenc_metrics.measures import (
    haar_bin_log_probabilities,
    kernel_target_alignment,
    kl_from_haar,
    meyer_wallach,
    one_vs_rest_targets,
    target_matrix,
)
from qenc_metrics.reporting import encoder_points
from qenc_metrics.states import FeatureStates, product_statevectors, qubit_states
from qenc_models import HardwareEfficientModel

PRODUCT_ENCODERS = ("angle", "atp", "sqe", "dense-angle", "pca")


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def aer(registry):
    return registry.get("backend", "aer").factory()


@pytest.fixture(scope="module")
def exact(registry):
    return registry.get("backend", "exact").factory()


@pytest.fixture(scope="module")
def pennylane(registry):
    return registry.get("backend", "pennylane").factory()


@pytest.fixture(scope="module")
def digits():
    return small_digits()


def fitted(registry, name: str, data) -> Encoder:
    encoder = registry.get("encoder", name).factory()
    view = data.view(encoder.view)
    # ATP's threshold search scores candidates; a fixed score keeps these tests to the encoding
    return encoder.fit(view.train, view.validation, FitContext(seed=0, score=lambda e: 0.5))


def context_of(encoder: Encoder, train: Split, test: Split, *, statevectors=None, expval_vjp=None, model=None,
               seed: int = 0) -> MetricContext:
    model = model or ReadoutModel()

    def refuse(*_):
        raise AssertionError("this metric was not expected to ask for an engine")

    return MetricContext(encoder=encoder, feature_map=feature_map_circuit(encoder), circuit=model.build(encoder),
                         model=model, train=train, test=test, seed=seed, rng=np.random.default_rng(seed),
                         statevectors=statevectors or refuse, expval_vjp=expval_vjp or refuse)


class ChainEncoder(Encoder):
    """RY(pi x_0) on wire 0, then CNOT(k, k+1) down the chain: the state
    cos(pi x / 2)|0...0> + sin(pi x / 2)|1...1> (a GHZ state at x = 1/2)."""

    name = "chain"

    def __init__(self, n_qubits: int = 3):
        self.n_qubits = n_qubits

    def fit(self, train, validation, context=None):
        return self

    def feature_map(self):
        return (Op("RY", (0,), "feature", 0),
                *(Op("CNOT", (k, k + 1)) for k in range(self.n_qubits - 1)))

    def transform(self, x):
        return np.pi * np.asarray(x)[:, :1]


def uniform_split(rng, n: int, d: int = 1) -> Split:
    return Split(rng.uniform(size=(n, d)), rng.integers(0, 2, n))


def bin_integrals(density, edges: np.ndarray) -> np.ndarray:
    """The integral of ``density`` over each bin [edges[k], edges[k+1]], by scipy's quad."""
    return np.array([integrate.quad(density, a, b, epsabs=1e-16, epsrel=1e-12)[0]
                     for a, b in zip(edges[:-1], edges[1:], strict=True)])


def haar_states(n_qubits: int, count: int, seed: int) -> np.ndarray:
    """Haar-random pure states: first columns of Haar-random unitaries."""
    unitaries = unitary_group.rvs(2**n_qubits, size=count, random_state=seed)
    return unitaries[:, :, 0]


# --- the product-state fast path ------------------------------------------------------------


@pytest.mark.parametrize("name", PRODUCT_ENCODERS)
def test_product_fast_path_equals_aer_statevectors(registry, aer, digits, name):
    encoder = fitted(registry, name, digits)
    fmap = feature_map_circuit(encoder)
    assert fmap.two_qubit_gates == 0
    x = digits.view(encoder.view).test.x
    features = encoder.transform(x)
    mine = product_statevectors(qubit_states(fmap, features))
    theirs = aer.statevector(fmap, features, np.zeros(0))
    np.testing.assert_allclose(mine, theirs, atol=1e-10)
    # the kernels of both paths agree too (products of one-qubit overlaps vs inner products)
    fast, full = FeatureStates(qubit_states(fmap, features), product=True), FeatureStates(theirs, product=False)
    np.testing.assert_allclose(fast.kernel(), full.kernel(), atol=1e-10)
    i, j = np.arange(len(x)), np.roll(np.arange(len(x)), 1)
    np.testing.assert_allclose(fast.fidelities(i, j), full.fidelities(i, j), atol=1e-10)


def test_fast_path_follows_the_gate_conventions():
    """RX(a)|0> = cos(a/2)|0> - i sin(a/2)|1>; H then RZ(b): e^{-ib/2}|0> + e^{ib/2}|1> over sqrt 2;
    X then RY(c): RY(c)|1> = -sin(c/2)|0> + cos(c/2)|1>."""
    a, b, c = 0.7, 1.9, -2.3
    fmap = Circuit(n_qubits=3, ops=(Op("RX", (0,), "feature", 0), Op("H", (1,)), Op("RZ", (1,), "feature", 1),
                                    Op("X", (2,)), Op("RY", (2,), "feature", 2)), n_features=3, n_weights=0, readout=0)
    got = qubit_states(fmap, np.array([[a, b, c]]))[0]
    want = [[np.cos(a / 2), -1j * np.sin(a / 2)],
            [np.exp(-0.5j * b) / np.sqrt(2), np.exp(0.5j * b) / np.sqrt(2)],
            [-np.sin(c / 2), np.cos(c / 2)]]
    np.testing.assert_allclose(got, want, atol=1e-14)


def test_fast_path_refuses_two_qubit_gates():
    fmap = Circuit(n_qubits=2, ops=(Op("H", (0,)), Op("CNOT", (0, 1))), n_features=0, n_weights=0, readout=0)
    with pytest.raises(ValueError, match="not a product-state"):
        qubit_states(fmap, np.zeros((1, 0)))


def test_entangling_feature_maps_take_the_engines_statevectors(registry, aer, digits):
    encoder = fitted(registry, "iqp", digits)
    context = context_of(encoder, digits.train, digits.test, statevectors=aer.statevector)
    assert not context.product_state
    states = FeatureStates.of(context, digits.test.x)
    assert not states.product
    np.testing.assert_allclose(states.vectors, aer.statevector(context.feature_map, encoder.transform(digits.test.x),
                                                               np.zeros(0)), atol=1e-12)


# --- entangling capability (Meyer-Wallach) --------------------------------------------------


def test_meyer_wallach_of_product_states_is_zero():
    rng = np.random.default_rng(3)
    qubits = rng.normal(size=(50, 4, 2)) + 1j * rng.normal(size=(50, 4, 2))
    qubits /= np.linalg.norm(qubits, axis=-1, keepdims=True)
    np.testing.assert_allclose(meyer_wallach(product_statevectors(qubits)), 0.0, atol=1e-12)


@pytest.mark.parametrize("n", [3, 4, 5])
def test_meyer_wallach_of_ghz_is_one(n):
    ghz = np.zeros((1, 2**n), dtype=complex)
    ghz[0, 0] = ghz[0, -1] = 1 / np.sqrt(2)
    assert meyer_wallach(ghz)[0] == pytest.approx(1.0, abs=1e-12)


def test_meyer_wallach_of_bell_and_w_states():
    """Bell: every reduced state is I/2, purity 1/2, Q = 1. W on 3 qubits: every reduced state is
    diag(2/3, 1/3), purity 5/9, Q = 2 (1 - 5/9) = 8/9."""
    bell = np.array([[1, 0, 0, 1]]) / np.sqrt(2)
    w = np.zeros((1, 8))
    w[0, [1, 2, 4]] = 1 / np.sqrt(3)
    assert meyer_wallach(bell)[0] == pytest.approx(1.0, abs=1e-12)
    assert meyer_wallach(w)[0] == pytest.approx(8 / 9, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_meyer_wallach_haar_average(n):
    """<Q>_Haar = (2^n - 2) / (2^n + 1) (Scott 2004); the sample mean of M states is within
    4 standard errors (the sample's own standard deviation over sqrt M)."""
    count = 4000
    q = meyer_wallach(haar_states(n, count, seed=10 + n))
    want = (2**n - 2) / (2**n + 1)
    assert abs(q.mean() - want) < 4 * q.std(ddof=1) / np.sqrt(count)


@pytest.mark.parametrize("name", PRODUCT_ENCODERS)
def test_entangling_metric_is_exactly_zero_for_product_encoders(registry, digits, name):
    encoder = fitted(registry, name, digits)
    view = digits.view(encoder.view)
    found = EntanglingCapability().compute(context_of(encoder, view.train, view.test))  # no engine asked
    assert found.value == 0.0
    assert found.details["test_samples"] == len(view.test)


@pytest.mark.parametrize("n", [3, 4])
def test_entangling_metric_of_the_chain_encoder(aer, n):
    """The chain state cos(t)|0..0> + sin(t)|1..1>, t = pi x / 2, has every reduced state
    diag(cos^2 t, sin^2 t): Q = 2 (1 - cos^4 t - sin^4 t) = sin^2(2t) = sin^2(pi x); 1 (GHZ) at x = 1/2."""
    ghz = Split(np.full((5, 1), 0.5), np.zeros(5, dtype=int))
    encoder = ChainEncoder(n)
    assert EntanglingCapability().compute(context_of(encoder, ghz, ghz, statevectors=aer.statevector)).value == \
        pytest.approx(1.0, abs=1e-10)
    test = uniform_split(np.random.default_rng(1), 40)
    found = EntanglingCapability().compute(context_of(encoder, test, test, statevectors=aer.statevector))
    assert found.value == pytest.approx(np.mean(np.sin(np.pi * test.x[:, 0]) ** 2), abs=1e-10)
    assert found.details["path"] == "statevectors"


def test_entangling_metric_subsamples_the_test_split(aer):
    test = uniform_split(np.random.default_rng(2), 30)
    found = EntanglingCapability(max_samples=7).compute(context_of(ChainEncoder(3), test, test,
                                                                   statevectors=aer.statevector))
    assert found.details["test_samples"] == 7
    assert 0.0 <= found.value <= 1.0


# --- expressibility -------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 6])
def test_haar_bins_integrate_the_haar_density(n):
    """Each bin's probability is the integral of (N-1)(1-F)^(N-2) over the bin (not the density
    at its centre), and they sum to one."""
    bins = 20
    edges = np.linspace(0, 1, bins + 1)
    density = (lambda f: 1.0) if n == 1 else (lambda f: (2**n - 1) * (1 - f) ** (2**n - 2))
    want = bin_integrals(density, edges)
    got = np.exp(haar_bin_log_probabilities(n, bins))
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-300)
    assert got.sum() == pytest.approx(1.0, abs=1e-12)


def test_haar_bins_stay_finite_for_many_qubits():
    logs = haar_bin_log_probabilities(20, 75)
    assert np.all(np.isfinite(logs))
    # last bin: log (1/75)^(2^20 - 1)
    assert logs[-1] == pytest.approx((2**20 - 1) * np.log(1 / 75), rel=1e-12)


def _binned_kl(p: np.ndarray, log_q: np.ndarray) -> tuple[float, np.ndarray]:
    """KL(p || q) of binned distributions, and g = log(p / q) on the bins (0 where p = 0)."""
    g = np.zeros_like(p)
    g[p > 0] = np.log(p[p > 0]) - log_q[p > 0]
    return float(p @ g), g


def _kl_tolerance(p: np.ndarray, g: np.ndarray, pairs: int, train: float = np.inf) -> float:
    """How far a plug-in KL estimate from ``pairs`` pair draws (of ``train`` samples) may fall
    from the binned truth p: the chi-square bias (B - 1) / (2 M) plus 4 standard deviations,
    sqrt(Var_p[g] (1/M + 4/N_train)) by the delta method (the second term bounds the variance
    a finite training set adds, as a U-statistic). When p = q (g = 0) the spread is the bias's
    own, so the bias counts for it."""
    bias = (np.sum(p > 0) - 1) / (2 * pairs)
    sd = np.sqrt(max(p @ g**2 - (p @ g) ** 2, 0.0) * (1 / pairs + 4 / train))
    return bias + 4 * max(sd, bias)


@pytest.mark.parametrize("n", [2, 3])
def test_expressibility_of_haar_states_is_near_zero(n):
    """Fidelities of pairs of Haar-random states follow the Haar distribution exactly, so the
    estimate is only the plug-in bias, about (B - 1) / (2 M), plus noise."""
    pairs, bins = 5000, 75
    a, b = haar_states(n, pairs, seed=1), haar_states(n, pairs, seed=2)
    fidelities = np.abs(np.einsum("pa,pa->p", a.conj(), b)) ** 2
    kl = kl_from_haar(fidelities, n, bins)
    log_q = haar_bin_log_probabilities(n, bins)
    p = np.exp(log_q)
    truth, g = _binned_kl(p, log_q)
    assert truth == pytest.approx(0.0, abs=1e-12)
    tolerance = _kl_tolerance(p, g, pairs)
    assert 0.0 <= kl < tolerance
    # against the Haar law of one more qubit, the estimate finds the binned KL between the two laws
    wrong, g_wrong = _binned_kl(p, haar_bin_log_probabilities(n + 1, bins))
    assert wrong > 5 * tolerance
    assert abs(kl_from_haar(fidelities, n + 1, bins) - wrong) < _kl_tolerance(p, g_wrong, pairs)


def _rx_pair_cdf(f: np.ndarray) -> np.ndarray:
    """RX(pi x)|0> = cos(pi x / 2)|0> - i sin(pi x / 2)|1>, so F = cos^2(pi u / 2) with
    u = |x - x'|, whose density for x, x' ~ U[0, 1] is 2 (1 - u). F falls from 1 to 0 as u goes
    from 0 to 1, so P(F <= f) = P(u >= u(f)) = (1 - u(f))^2 with u(f) = arccos(2f - 1) / pi."""
    return (1 - np.arccos(np.clip(2 * f - 1, -1, 1)) / np.pi) ** 2


def test_expressibility_of_rx_angle_encoding_with_uniform_data():
    """One qubit, RX(pi x), x ~ U[0, 1]: the KL of the binned fidelity law above from the one-qubit
    Haar law P(F) = 1 (each bin 1/B), against the metric on 20000 uniform training samples."""
    bins, pairs, n_train = 75, 20000, 20000
    edges = np.linspace(0, 1, bins + 1)
    p = np.diff(_rx_pair_cdf(edges))
    assert p.sum() == pytest.approx(1.0)
    want, g = _binned_kl(p, np.full(bins, -np.log(bins)))
    # the exact integral of p's density on one bin, as a check of the CDF: density 2(1-u)/(pi sqrt(F(1-F)))
    density = lambda f: 2 * (1 - np.arccos(2 * f - 1) / np.pi) / (np.pi * np.sqrt(f * (1 - f)))  # noqa: E731
    assert integrate.quad(density, edges[10], edges[11])[0] == pytest.approx(p[10], rel=1e-9)

    rng = np.random.default_rng(7)
    train = uniform_split(rng, n_train)
    encoder = AngleEncoder().fit(train, train)
    found = Expressibility(pairs=pairs, bins=bins).compute(context_of(encoder, train, train))
    assert abs(found.value - want) < _kl_tolerance(p, g, pairs, n_train)
    assert found.details["pairs"] == pairs and found.details["bins"] == bins
    assert found.details["path"] == "product state, closed form"


def test_expressibility_through_statevectors_of_the_chain_encoder(aer):
    """The chain state cos(t)|0..0> + sin(t)|1..1>, t = pi x / 2, has the same pair fidelities
    cos^2(pi (x - x') / 2) as RX(pi x)|0>, now against the 3-qubit Haar law 7 (1 - F)^6, whose
    bins are integrated here with scipy."""
    bins, pairs, n_train = 30, 6000, 3000
    edges = np.linspace(0, 1, bins + 1)
    p = np.diff(_rx_pair_cdf(edges))
    q = bin_integrals(lambda f: 7 * (1 - f) ** 6, edges)
    want, g = _binned_kl(p, np.log(q))
    train = uniform_split(np.random.default_rng(8), n_train)
    found = Expressibility(pairs=pairs, bins=bins).compute(context_of(ChainEncoder(3), train, train,
                                                                      statevectors=aer.statevector))
    assert found.details["path"] == "statevectors"
    assert abs(found.value - want) < _kl_tolerance(p, g, pairs, n_train)


def test_expressibility_of_a_constant_state_is_the_last_bins_surprise():
    """All pairs at F = 1 (every sample x = 0: |0>^n): the histogram is one point mass in the
    last bin, KL = -log P_Haar(last bin) = (N - 1) log B."""
    train = Split(np.zeros((10, 3)), np.zeros(10, dtype=int))
    encoder = AngleEncoder().fit(train, train)
    found = Expressibility(pairs=100, bins=75).compute(context_of(encoder, train, train))
    assert found.value == pytest.approx(7 * np.log(75), rel=1e-12)


# --- kernel-target alignment ----------------------------------------------------------------


def test_alignment_of_the_ideal_kernel_is_one():
    labels = np.array([0, 1, 1, 0, 1, 0, 0])
    y = 2.0 * labels - 1
    assert kernel_target_alignment(np.outer(y, y), labels) == pytest.approx(1.0, abs=1e-15)
    assert kernel_target_alignment(3.5 * np.outer(y, y), labels) == pytest.approx(1.0, abs=1e-15)
    assert kernel_target_alignment(-np.outer(y, y), labels) == pytest.approx(-1.0, abs=1e-15)
    np.testing.assert_array_equal(target_matrix(labels), np.outer(y, y))


def test_alignment_is_always_in_minus_one_one():
    rng = np.random.default_rng(4)
    for _ in range(200):
        n = int(rng.integers(2, 30))
        labels = rng.integers(0, int(rng.integers(2, 5)), n)
        a = rng.normal(size=(n, n))
        for kernel in (a, a @ a.T, np.abs(a)):
            assert -1.0 <= kernel_target_alignment(kernel, labels) <= 1.0


def test_alignment_of_orthogonal_classes():
    """x = 0 for class 0 (|0>) and x = 1 for class 1 (RX(pi)|0> = -i|1>): K is 1 within a
    class and 0 across, so A = (n0^2 + n1^2) / (sqrt(n0^2 + n1^2) N) = sqrt(n0^2 + n1^2) / N."""
    labels = np.array([0] * 7 + [1] * 5)
    train = Split(labels[:, None].astype(float), labels)
    encoder = AngleEncoder().fit(train, train)
    found = KernelAlignment().compute(context_of(encoder, train, train))
    assert found.value == pytest.approx(np.sqrt(7**2 + 5**2) / 12, abs=1e-12)
    assert found.details["train_samples"] == 12


def test_alignment_metric_equals_the_formula_on_aer_states(registry, aer, digits):
    """IQP (statevectors) and angle (closed form): the metric equals <K, T> / (||K|| N) with K
    from Aer's statevectors of the whole training split, T_ij = +-1."""
    for name in ("iqp", "angle"):
        encoder = fitted(registry, name, digits)
        context = context_of(encoder, digits.train, digits.test, statevectors=aer.statevector)
        found = KernelAlignment(max_samples=1000).compute(context)
        psi = aer.statevector(context.feature_map, encoder.transform(digits.train.x), np.zeros(0))
        kernel = np.abs(psi.conj() @ psi.T) ** 2
        same = digits.train.y[:, None] == digits.train.y[None, :]
        want = (kernel[same].sum() - kernel[~same].sum()) / (np.linalg.norm(kernel) * len(kernel))
        assert found.value == pytest.approx(want, abs=1e-10)


def test_alignment_subsamples_the_training_split(registry, digits):
    encoder = fitted(registry, "angle", digits)
    found = KernelAlignment(max_samples=15).compute(context_of(encoder, digits.train, digits.test))
    assert found.details["train_samples"] == 15
    assert -1.0 <= found.value <= 1.0


# --- trainability ---------------------------------------------------------------------------


def test_one_vs_rest_targets():
    np.testing.assert_array_equal(one_vs_rest_targets(np.array([0, 1, 1])), [[-1, 1, 1]])
    np.testing.assert_array_equal(one_vs_rest_targets(np.array([1, 1])), [[1, 1]])
    np.testing.assert_array_equal(one_vs_rest_targets(np.array([0, 2, 1, 2])),
                                  [[1, -1, -1, -1], [-1, -1, 1, -1], [-1, 1, -1, 1]])


def test_trainability_of_the_one_qubit_readout_model(exact):
    """One data qubit: the readout qubit is |-> (an eigenstate of X), so IsingXX(w0) acts as
    RX(-w0) on the data qubit, and measuring Z after the final H measures
    X_r exp(-i w1 Z_0 Z_r) = X_r (cos w1 - i sin w1 Z_0 Z_r): f = -cos(w1) whatever the data.
    With every label 1 the mean hinge loss is 1 + cos w1, dL/dw1 = -sin w1 (variance 1/2 for
    w1 ~ U[-pi, pi)), dL/dw0 = 0: the mean over parameters is 1/4. The sample variance of R draws
    has standard deviation sqrt((E sin^4 - (E sin^2)^2) / R) = sqrt(1 / (8 R))."""
    draws = 4000
    train = Split(np.random.default_rng(5).uniform(size=(20, 1)), np.ones(20, dtype=int))
    encoder = AngleEncoder().fit(train, train)
    context = context_of(encoder, train, train, expval_vjp=exact.expval_vjp, seed=11)
    found = Trainability(initialisations=draws).compute(context)
    assert abs(found.value - 0.25) < 4 * np.sqrt(1 / (8 * draws)) / 2
    # the same draws, replayed: the exact sample variance of -sin w1 (and 0 for w0)
    rng = np.random.default_rng(11)
    w1 = np.array([ReadoutModel().init_weights(context.circuit, rng)[1] for _ in range(draws)])
    assert found.value == pytest.approx(np.var(np.sin(w1), ddof=1) / 2, abs=1e-10)
    assert found.details["min_parameter_variance"] == pytest.approx(0.0, abs=1e-20)
    assert found.details["initialisations"] == draws and found.details["batch"] == 20


def test_trainability_of_the_two_qubit_readout_model(exact):
    """Two data qubits (XX weights w0, w1; ZZ weights wa, wb): data qubit j is RX(a_j - w_j)|0>,
    <Z_j> = c_j = cos(a_j - w_j), and f = -<cos(wa Z_0 + wb Z_1)> = -cos wa cos wb
    + c_0 c_1 sin wa sin wb. With y = +-1, |f| <= 1 so the hinge is 1 - y f and
    dL/dw = -mean(y df/dw). The metric's value is the mean over the 4 parameters of the sample
    variance of these gradients over the same draws."""
    rng = np.random.default_rng(6)
    train = uniform_split(rng, 12, d=2)
    encoder = AngleEncoder().fit(train, train)
    context = context_of(encoder, train, train, expval_vjp=exact.expval_vjp, seed=3)
    draws = 60
    found = Trainability(initialisations=draws).compute(context)
    replay = np.random.default_rng(3)
    a, y = np.pi * train.x, 2.0 * train.y - 1
    grads = []
    for _ in range(draws):
        w0, w1, wa, wb = ReadoutModel().init_weights(context.circuit, replay)
        c0, c1 = np.cos(a[:, 0] - w0), np.cos(a[:, 1] - w1)
        s0, s1 = np.sin(a[:, 0] - w0), np.sin(a[:, 1] - w1)
        df = np.stack([s0 * c1 * np.sin(wa) * np.sin(wb), c0 * s1 * np.sin(wa) * np.sin(wb),
                       np.sin(wa) * np.cos(wb) + c0 * c1 * np.cos(wa) * np.sin(wb),
                       np.cos(wa) * np.sin(wb) + c0 * c1 * np.sin(wa) * np.cos(wb)])
        grads.append(-(df * y).mean(axis=1))
    assert found.value == pytest.approx(np.var(grads, axis=0, ddof=1).mean(), rel=1e-10)
    assert found.details["parameters"] == 4


def test_trainability_of_a_one_qubit_ry_circuit_on_pennylane(pennylane):
    """hea with one layer on one qubit: RX(pi x), RY(w0), RZ(w1), <Z> = cos(pi x) cos(w0) (RZ
    leaves Z alone). dL/dw0 = mean(y cos(pi x)) sin(w0) = c sin w0, whose variance over
    w0 ~ U[-pi, pi) is c^2 / 2; dL/dw1 = 0; the mean over the parameters is c^2 / 4 (with c = 1,
    x = 0 and every label 1, the textbook 1/2 for d<Z>/dw = -sin w). Replayed on the same draws."""
    rng = np.random.default_rng(9)
    train = uniform_split(rng, 16)
    encoder = AngleEncoder().fit(train, train)
    model = HardwareEfficientModel(layers=1)
    context = context_of(encoder, train, train, expval_vjp=pennylane.expval_vjp, model=model, seed=4)
    draws = 40
    found = Trainability(initialisations=draws).compute(context)
    c = np.mean((2.0 * train.y - 1) * np.cos(np.pi * train.x[:, 0]))
    replay = np.random.default_rng(4)
    w0 = np.array([model.init_weights(context.circuit, replay)[0] for _ in range(draws)])
    assert found.value == pytest.approx(np.var(c * np.sin(w0), ddof=1) / 2, rel=1e-8)
    assert found.details["model"] == "hea(layers=1)"


def test_trainability_draws_a_fixed_batch(exact, digits, registry):
    encoder = fitted(registry, "angle", digits)
    context = context_of(encoder, digits.train, digits.test, expval_vjp=exact.expval_vjp)
    found = Trainability(initialisations=5, batch=8).compute(context)
    assert found.details["batch"] == 8 and found.details["parameters"] == 2 * encoder.n_qubits
    assert found.value > 0


def test_trainability_of_a_model_without_weights_is_unavailable():
    class Frozen(ReadoutModel):
        def build(self, encoder):
            return Circuit(n_qubits=1, ops=(Op("RX", (0,), "feature", 0),), n_features=1, n_weights=0, readout=0)

    train = uniform_split(np.random.default_rng(0), 4)
    encoder = AngleEncoder().fit(train, train)
    with pytest.raises(MetricUnavailable, match="no weights"):
        Trainability().compute(context_of(encoder, train, train, model=Frozen()))


# --- options, registration, the harness -----------------------------------------------------


@pytest.mark.parametrize(("factory", "options"), [
    (Expressibility, {"pairs": 0}), (Expressibility, {"bins": 2.5}), (Expressibility, {"pairs": "many"}),
    (Trainability, {"initialisations": 1}), (KernelAlignment, {"max_samples": 1}),
    (EntanglingCapability, {"max_samples": True}), (KernelAlignment, {"max_samples": float("inf")}),
])
def test_bad_options_are_refused(factory, options):
    with pytest.raises(ValueError, match=next(iter(options))):
        factory(**options)


def test_integral_options_may_be_floats_or_numpy_integers():
    assert Expressibility(pairs=500.0).pairs == 500
    assert Trainability(initialisations=np.int64(7)).initialisations == 7


def test_the_plugin_registers_four_metrics_and_a_reporter(registry):
    assert set(registry.names("metric")) >= {"expressibility", "entangling", "alignment", "trainability"}
    assert registry.get("metric", "expressibility").factory().name == "expressibility"
    assert "encoding-metrics" in registry.names("reporter")


@pytest.fixture(scope="module")
def compared():
    """angle (closed forms, exact backend) and amplitude (statevectors), two seeds, a short
    training: every metric on every record."""
    return compare(CompareConfig(
        encoders=("angle", "amplitude"), dataset="digits", seeds=2, train_size=40, test_size=20, classical=(),
        metrics=("all",), metric_options={"expressibility": {"pairs": 300}, "trainability": {"initialisations": 6}},
        training=TrainConfig(max_epochs=2, restarts=1)))


def test_compare_records_every_metric(compared):
    assert len(compared.records) == 4
    for record in compared.records:
        assert set(record.metrics) == {"expressibility", "entangling", "alignment", "trainability"}
        for entry in record.metrics.values():
            assert "value" in entry and entry["seconds"] >= 0, entry
        assert record.metrics["expressibility"]["pairs"] == 300
        assert record.metrics["trainability"]["initialisations"] == 6
        assert -1 <= record.metrics["alignment"]["value"] <= 1
    angle = [r for r in compared.records if r.encoder == "angle"]
    amplitude = [r for r in compared.records if r.encoder == "amplitude"]
    assert all(r.metrics["entangling"]["value"] == 0.0 for r in angle)
    # amplitude's RY tree with CNOTs entangles the digits' states
    assert all(0 < r.metrics["entangling"]["value"] <= 1 for r in amplitude)
    assert all(r.metrics["alignment"]["path"] == "statevectors" for r in amplitude)


def test_options_for_a_metric_not_computed_are_refused():
    with pytest.raises(ConfigError, match="not computed"):
        compare(CompareConfig(encoders=("angle",), metrics=("entangling",), classical=(),
                              metric_options={"alignment": {"max_samples": 10}}))


def test_reporter_plots_accuracy_against_alignment_and_expressibility(compared):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = {}
    for r in compared.records:
        models.setdefault(r.encoder, []).append(r)
    plots = EncodingMetricsReporter().plots(models)
    assert [p.title for p in plots] == ["Accuracy against alignment", "Accuracy against expressibility"]
    points = {p.name: p for p in encoder_points(models, "alignment")}
    for name, records in models.items():
        values = [r.metrics["alignment"]["value"] for r in records]
        assert points[name].metric == pytest.approx(np.mean(values))
        assert points[name].metric_std == pytest.approx(np.std(values, ddof=1))
        assert points[name].accuracy == pytest.approx(np.mean([r.accuracy for r in records]))
    fig, ax = plt.subplots()
    try:
        plots[0].draw(ax)
        assert len(ax.lines) >= len(models)  # one marker per encoder (and its error bars)
        assert {t.get_text() for t in ax.texts} == set(models)
    finally:
        plt.close(fig)
    # angle's KL (9 qubits) is far above amplitude's (4 qubits): the expressibility axis is logarithmic
    kl = [p.metric for p in encoder_points(models, "expressibility")]
    fig, ax = plt.subplots()
    try:
        plots[1].draw(ax)
        assert ax.get_xscale() == ("log" if max(kl) > 10 * min(kl) else "linear")
    finally:
        plt.close(fig)
    # without the metrics in the records, no plot
    bare = {name: [type(r).from_dict({**r.to_dict(), "metrics": {}}) for r in records]
            for name, records in models.items()}
    assert EncodingMetricsReporter().plots(bare) == []


def test_the_hook_pages_example_metric_runs(aer, registry, digits):
    """The example of docs/hooks/metrics.md, executed: its value is the mean fidelity of
    consecutive test states, computed here from Aer's statevectors."""
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "hooks" / "metrics.md").read_text(encoding="utf-8")
    source = next(block for block in re.findall(r"```python\n(.*?)```", page, re.S) if "class MeanFidelity" in block)
    namespace: dict = {}
    exec(compile(source, "docs/hooks/metrics.md", "exec"), namespace)
    specs = []
    namespace["qenc_bench_register_metrics"](specs.append)
    (spec,) = specs
    encoder = fitted(registry, "iqp", digits)
    context = context_of(encoder, digits.train, digits.test, statevectors=aer.statevector)
    found = spec.factory().compute(context)
    psi = aer.statevector(context.feature_map, encoder.transform(digits.test.x), np.zeros(0))
    want = np.mean([abs(np.vdot(psi[k], psi[k + 1])) ** 2 for k in range(len(psi) - 1)])
    assert found.value == pytest.approx(want, abs=1e-12)
    with pytest.raises(MetricUnavailable, match="max_qubits"):
        spec.factory(max_qubits=4).compute(context)
