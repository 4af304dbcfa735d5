"""Adversarial attacks: the input gradient they follow, the budget they keep, the errors a
user can make, and attacks and adversarial training end to end on real digits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner, Result

from qenc_attacks import FGSM, PGD
from qenc_bench import AttackSpec, BackendSpec, Capabilities, Encoder
from qenc_bench.attacks import Attack, margin_gradient_fn, parse_attack
from qenc_bench.cli import main
from qenc_bench.encoders import FitContext
from qenc_bench.errors import IncompatibleComponentsError
from qenc_bench.harness import CompareConfig, compare, plan
from qenc_bench.model import ReadoutModel
from qenc_bench.plugins import load_registry
from qenc_bench.prepare import prepare
from qenc_bench.stats import rank
from qenc_bench.training import TrainConfig, train
from qenc_datasets.digits import DigitsDataset
from qenc_encoders import AngleEncoder, ATPEncoder, SQEEncoder
from qenc_exact import ExactReadoutBackend
from qenc_pennylane.backend import PennyLaneBackend

FD_STEP = 1e-6
EPS_VALUES = (0.0, 0.05, 0.3, 1.0)
QUICK = TrainConfig(max_epochs=15, patience=5)


@pytest.fixture(scope="module")
def digits():
    """Real digits 0 vs 1 on a 3 x 3 grid (9 pixels), small splits."""
    return prepare(DigitsDataset().load(None), (0, 1), grid=3, train_size=80, test_size=40, seed=0)


def _no_search(candidate):
    raise AssertionError("a fixed-threshold encoder must not ask for trainings")


def fitted(name: str, data) -> Encoder:
    """A fitted encoder; ATP with a fixed tau that prunes the dimmest pixel(s) and keeps the rest."""
    if name == "atp":
        xbar0, xbar1 = data.train.x[data.train.y == 0].mean(0), data.train.x[data.train.y == 1].mean(0)
        levels = np.unique(np.maximum(xbar0, xbar1))
        encoder = ATPEncoder(tau=float(levels[:2].mean()))
    else:
        encoder = {"angle": AngleEncoder, "sqe": SQEEncoder}[name]()
    encoder.fit(data.train, data.validation, FitContext(seed=0, score=_no_search))
    if name == "atp":
        assert encoder.pruned_.any() and not encoder.pruned_.all()
    return encoder


def margin_loss(backend, circuit, encoder, weights, x, labels) -> np.ndarray:
    """-y f(x) per sample, y = +-1: the loss the attacks raise."""
    return -(2.0 * labels - 1.0) * backend.expval(circuit, encoder.transform(x), weights)


def central_differences(backend, circuit, encoder, weights, x, labels, step=FD_STEP) -> np.ndarray:
    grad = np.zeros_like(x)
    for j in range(x.shape[1]):
        shift = np.zeros(x.shape[1])
        shift[j] = step
        up = margin_loss(backend, circuit, encoder, weights, x + shift, labels)
        down = margin_loss(backend, circuit, encoder, weights, x - shift, labels)
        grad[:, j] = (up - down) / (2 * step)
    return grad


@pytest.fixture(scope="module")
def backends():
    return {"exact": ExactReadoutBackend(), "pennylane": PennyLaneBackend()}


# --- the input gradient --------------------------------------------------------------------


@pytest.mark.parametrize("encoder_name", ["angle", "atp", "sqe"])
def test_margin_gradient_matches_central_differences_on_both_backends(digits, backends, encoder_name):
    encoder = fitted(encoder_name, digits)
    circuit = ReadoutModel().build(encoder)
    weights = np.random.default_rng(7).uniform(-np.pi, np.pi, circuit.n_weights)
    x, labels = digits.test.x[:12], digits.test.y[:12]
    grads = {}
    for name, backend in backends.items():
        gradient, method = margin_gradient_fn(encoder, circuit, backend, weights, labels)
        assert "finite-difference" not in method
        grads[name] = gradient(x)
        fd = central_differences(backend, circuit, encoder, weights, x, labels)
        np.testing.assert_allclose(grads[name], fd, rtol=0, atol=1e-6, err_msg=f"{encoder_name} on {name}")
        assert np.abs(grads[name]).max() > 1e-2, "a vanishing gradient tests nothing"
    np.testing.assert_allclose(grads["exact"], grads["pennylane"], rtol=0, atol=1e-10)


class NoInputGradientAngle(AngleEncoder):
    """Angle encoding that does not provide ``input_vjp``: attacks fall back to finite differences."""

    input_vjp = Encoder.input_vjp


def test_encoder_without_input_vjp_falls_back_to_named_finite_differences(digits, backends):
    exact_encoder = fitted("angle", digits)
    fd_encoder = NoInputGradientAngle().fit(digits.train, digits.validation)
    circuit = ReadoutModel().build(exact_encoder)
    assert ReadoutModel().build(fd_encoder) == circuit
    weights = np.random.default_rng(3).uniform(-np.pi, np.pi, circuit.n_weights)
    x, labels = digits.test.x[:10], digits.test.y[:10]
    backend = backends["exact"]
    closed_form, _ = margin_gradient_fn(exact_encoder, circuit, backend, weights, labels)
    estimate, method = margin_gradient_fn(fd_encoder, circuit, backend, weights, labels)
    assert "finite-difference" in method
    np.testing.assert_allclose(estimate(x), closed_form(x), rtol=0, atol=1e-4)


# --- the budget: eps ball and [0, 1] -------------------------------------------------------


def random_gradient(rng):
    """A gradient function with random signs and some exact zeros (no model needed for
    properties of the projection)."""

    def gradient(x):
        g = rng.normal(size=x.shape)
        g[rng.uniform(size=x.shape) < 0.1] = 0.0
        return g

    return gradient


def random_pixels(rng, n=300, d=9):
    x = rng.uniform(size=(n, d))
    x[rng.uniform(size=x.shape) < 0.15] = 0.0  # pixels on the edges of [0, 1]
    x[rng.uniform(size=x.shape) < 0.15] = 1.0
    return x


def assert_in_budget(x_adv, x, eps):
    assert x_adv.shape == x.shape
    assert np.all(x_adv >= 0.0) and np.all(x_adv <= 1.0)
    assert np.max(np.abs(x_adv - x)) <= eps + 1e-12


@pytest.mark.parametrize("eps", EPS_VALUES)
def test_fgsm_stays_in_the_eps_ball_and_in_the_unit_interval(eps):
    rng = np.random.default_rng(11)
    for _ in range(5):
        x = random_pixels(rng)
        gradient = random_gradient(rng)
        g = gradient(x)
        x_adv = FGSM().perturb(x, lambda _, g=g: g, eps, rng)
        assert_in_budget(x_adv, x, eps)
        np.testing.assert_array_equal(x_adv, np.clip(x + eps * np.sign(g), 0.0, 1.0))
        if eps == 0.0:
            np.testing.assert_array_equal(x_adv, x)


@pytest.mark.parametrize("eps", EPS_VALUES)
def test_pgd_with_random_start_stays_in_the_eps_ball_and_in_the_unit_interval(eps):
    rng = np.random.default_rng(12)
    for steps in (1, 7):
        x = random_pixels(rng)
        x_adv = PGD(steps=steps, random_start=True).perturb(x, random_gradient(rng), eps, rng)
        assert_in_budget(x_adv, x, eps)


@pytest.fixture(scope="module")
def trained_angle(digits, backends):
    """The readout model with angle encoding trained on digits (exact backend)."""
    encoder = fitted("angle", digits)
    circuit = ReadoutModel().build(encoder)
    rng = np.random.default_rng(0)
    backend = backends["exact"]
    result = train(circuit, backend, encoder.transform(digits.train.x), digits.train.y,
                   encoder.transform(digits.validation.x), digits.validation.y,
                   ReadoutModel().init_weights(circuit, rng), TrainConfig(max_epochs=40), rng)
    assert result.validation_accuracy > 0.8
    return encoder, circuit, result.weights


def test_pgd_of_one_full_step_without_random_start_is_fgsm(digits, backends, trained_angle):
    encoder, circuit, weights = trained_angle
    x, labels = digits.test.x, digits.test.y
    gradient, _ = margin_gradient_fn(encoder, circuit, backends["exact"], weights, labels)
    for eps in EPS_VALUES:
        fgsm = FGSM().perturb(x, gradient, eps, np.random.default_rng(0))
        pgd = PGD(steps=1, step=eps if eps else None, random_start=False).perturb(x, gradient, eps,
                                                                                np.random.default_rng(1))
        np.testing.assert_array_equal(pgd, fgsm)


def test_pgd_with_more_steps_raises_the_loss_at_least_as_much_as_fgsm(digits, backends, trained_angle):
    encoder, circuit, weights = trained_angle
    backend = backends["exact"]
    x, labels = digits.test.x, digits.test.y
    gradient, _ = margin_gradient_fn(encoder, circuit, backend, weights, labels)
    eps = 0.1
    clean = margin_loss(backend, circuit, encoder, weights, x, labels).mean()
    fgsm = margin_loss(backend, circuit, encoder, weights, FGSM().perturb(x, gradient, eps, None), labels).mean()
    x_pgd = PGD(steps=20, random_start=False).perturb(x, gradient, eps, np.random.default_rng(0))
    pgd = margin_loss(backend, circuit, encoder, weights, x_pgd, labels).mean()
    assert fgsm > clean
    assert pgd >= fgsm


ATTACKS_THAT_FOLLOW_THE_GRADIENT = {
    "fgsm": FGSM(),
    "pgd without random start": PGD(steps=5, random_start=False),
    "pgd with random start": PGD(steps=5),
}


@pytest.mark.parametrize("attack_name", sorted(ATTACKS_THAT_FOLLOW_THE_GRADIENT))
def test_attacks_leave_atp_pruned_pixels_untouched(digits, backends, attack_name):
    encoder = fitted("atp", digits)
    circuit = ReadoutModel().build(encoder)
    weights = np.random.default_rng(5).uniform(-np.pi, np.pi, circuit.n_weights)
    x, labels = digits.test.x, digits.test.y
    gradient, _ = margin_gradient_fn(encoder, circuit, backends["exact"], weights, labels)
    assert np.all(gradient(x)[:, encoder.pruned_] == 0.0)
    x_adv = ATTACKS_THAT_FOLLOW_THE_GRADIENT[attack_name].perturb(x, gradient, 0.3, np.random.default_rng(0))
    assert np.any(x_adv[:, ~encoder.pruned_] != x[:, ~encoder.pruned_])
    np.testing.assert_array_equal(x_adv[:, encoder.pruned_], x[:, encoder.pruned_])


def test_perturbing_atp_pruned_pixels_does_not_change_the_model_input(digits):
    encoder = fitted("atp", digits)
    x = digits.test.x
    moved = x.copy()
    moved[:, encoder.pruned_] = np.random.default_rng(0).uniform(size=(len(x), int(encoder.pruned_.sum())))
    np.testing.assert_array_equal(encoder.transform(moved), encoder.transform(x))


# --- user errors on the command line -----------------------------------------------------


@pytest.fixture
def isolated(clean_env, monkeypatch, tmp_path):
    """A wide terminal and a working directory of our own."""
    monkeypatch.setenv("COLUMNS", "2000")
    monkeypatch.chdir(tmp_path)
    return tmp_path


SMALL = ["--seeds", "1", "--train-size", "60", "--test-size", "40", "--epochs", "15"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), f"not a user error: {result.exception!r}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("Error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--attack", "fgsm:1.5"], ["eps", "[0, 1]", "1.5"]),
        (["--attack", "fgsm:-0.1"], ["eps", "[0, 1]"]),
        (["--attack", "nope:0.1"], ["unknown attack 'nope'", "fgsm", "pgd"]),
        (["--attack", "fgsm"], ["NAME:EPS"]),
        (["--attack", "fgsm:abc"], ["number"]),
        (["--attack", "pgd:0.1:steps=0"], ["steps", "at least 1"]),
        (["--attack", "pgd:0.1:steps"], ["key=value"]),
        (["--attack", "pgd:0.1:bogus=3"], ["pgd", "bogus"]),
        (["--adversarial-training", "fgsm:0.1,0.3"], ["one eps"]),
        (["--adversarial-training", "fgsm:0.1", "--adversarial-ratio", "0"], ["ratio"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and v[0].startswith("--") else None,
)
def test_bad_attack_options_are_one_line_errors(isolated, args, expected):
    line = one_line_error(invoke("compare", *SMALL, *args, "--out", "out.json"))
    for text in expected:
        assert text in line, line
    assert not (isolated / "out.json").exists()


def test_an_attack_spec_without_eps_values_is_an_error(isolated):
    one_line_error(invoke("compare", *SMALL, "--attack", "fgsm:,", "--out", "out.json"))


def test_two_attack_settings_with_the_same_label_are_not_silently_merged(isolated):
    """``pgd:0.1:steps=1`` and ``pgd:0.1:steps=20`` are different attacks; both labelled
    ``pgd:0.1``, the second would overwrite the first in the record."""
    result = invoke("compare", *SMALL, "--encoders", "angle", "--backend", "exact",
                    "--attack", "pgd:0.1:steps=1", "--attack", "pgd:0.1:steps=20", "--out", "out.json")
    if result.exit_code == 0:
        record = json.loads((isolated / "out.json").read_text())["records"][0]
        assert len(record["adversarial_accuracy"]) == 2, record["adversarial_accuracy"]
    else:
        one_line_error(result)


# --- backends without input gradients ------------------------------------------------------


class WeightGradientsOnly(ExactReadoutBackend):
    """Trains (weight gradients) but declares no gradients w.r.t. inputs."""

    capabilities = Capabilities(gradients=True, input_gradients=False, entropy=True, max_qubits=1_000_000)


class NoGradients(ExactReadoutBackend):
    """Evaluates only."""

    capabilities = Capabilities(gradients=False, input_gradients=False, entropy=True, max_qubits=1_000_000)


@pytest.fixture
def registry(clean_env):
    """Every installed plugin, plus two hand-registered backends without input gradients."""
    registry = load_registry()
    for name, cls in (("weights-only", WeightGradientsOnly), ("no-gradients", NoGradients)):
        registry.add(BackendSpec(name=name, factory=cls, capabilities=cls.capabilities), plugin="test-backends")
    return registry


def small_config(**changes) -> CompareConfig:
    base = dict(encoders=("angle",), seeds=1, train_size=60, test_size=40, backend="exact",
                train_backend="exact", training=QUICK, attacks=(parse_attack("fgsm:0.1"),))
    return CompareConfig(**(base | changes))


def input_gradient_backends(registry) -> list[str]:
    return [e.spec.name for e in registry.entries("backend") if e.spec.capabilities.input_gradients]


@pytest.mark.parametrize(("train_backend", "backend", "used"),
                         [("exact", "no-gradients", "exact"), ("weights-only", "exact", "exact")])
def test_the_attack_takes_its_gradient_from_a_backend_that_has_one(registry, train_backend, backend, used):
    result = compare(small_config(train_backend=train_backend, backend=backend), registry=registry)
    record = result.records[0]
    assert record.attack_gradient.endswith(f" on {used}")
    assert set(record.adversarial_accuracy) == {"fgsm:0.1"}


def test_no_backend_with_input_gradients_is_a_clear_error(registry):
    config = small_config(train_backend="weights-only", backend="no-gradients")
    with pytest.raises(IncompatibleComponentsError) as caught:
        compare(config, registry=registry)
    message = str(caught.value)
    assert "no-gradients" in message or "weights-only" in message
    for name in input_gradient_backends(registry):
        assert name in message, message


@pytest.mark.parametrize(
    "changes",
    [
        {"train_backend": "weights-only", "backend": "no-gradients"},
        {"train_backend": "weights-only", "backend": "exact", "attacks": (),
         "adversarial_training": parse_attack("fgsm:0.1")},
    ],
    ids=["attack", "adversarial training"],
)
def test_missing_input_gradients_are_refused_before_any_training(registry, changes):
    """DESIGN.md: asking a backend for what it lacks is an error before any circuit runs;
    ``plan`` is where the harness raises every configuration error."""
    with pytest.raises(IncompatibleComponentsError, match="input"):
        plan(small_config(**changes), registry=registry)


# --- end to end ---------------------------------------------------------------------------


LABELS = {"fgsm:0.1", "fgsm:0.3", "pgd:0.1"}


@pytest.fixture(scope="module")
def attacked():
    config = CompareConfig(encoders=("atp", "angle"), seeds=2, train_size=60, test_size=40, backend="exact",
                           training=QUICK, attacks=(parse_attack("fgsm:0.1,0.3"), parse_attack("pgd:0.1")),
                           classical=())
    return compare(config, registry=load_registry(()))


def test_compare_records_adversarial_accuracy_per_attack_and_eps(attacked):
    assert len(attacked.records) == 4
    for r in attacked.records:
        assert set(r.adversarial_accuracy) == LABELS
        assert all(0.0 <= v <= 1.0 for v in r.adversarial_accuracy.values())
        assert set(r.attack_seconds) == LABELS and all(s > 0 for s in r.attack_seconds.values())
        assert r.attack_gradient == "closed form (exact) on exact"
        assert r.adversarial_training is None
    assert attacked.config["attacks"] == [
        {"name": "fgsm", "eps": [0.1, 0.3], "options": {}}, {"name": "pgd", "eps": [0.1], "options": {}}
    ]


def test_robustness_is_the_mean_of_the_adversarial_accuracies(attacked):
    summaries = {s.encoder: s for s in rank(attacked.records, "robustness").summaries}
    assert set(summaries) == {"atp", "angle"}
    for name, s in summaries.items():
        per_seed = [np.mean(list(r.adversarial_accuracy.values())) for r in attacked.records if r.encoder == name]
        assert s.metrics["robustness"].mean == pytest.approx(np.mean(per_seed))
        assert s.metrics["robustness"].seeds == 2
    assert sorted(s.rank for s in summaries.values())[0] == 1


def test_results_with_attacks_survive_the_json_round_trip(attacked, tmp_path):
    path = attacked.save(tmp_path / "r.json")
    again = type(attacked).load(path)
    assert [r.adversarial_accuracy for r in again.records] == [r.adversarial_accuracy for r in attacked.records]
    assert [r.attack_gradient for r in again.records] == [r.attack_gradient for r in attacked.records]


def test_cli_prints_the_robustness_table(isolated):
    result = invoke("compare", *SMALL, "--backend", "exact", "--attack", "fgsm:0.1,0.3",
                    "--attack", "pgd:0.1:steps=5,random_start=false", "--rank-by", "robustness", "--out", "out.json")
    assert result.exit_code == 0, result.output
    assert "robustness (test accuracy, mean over seeds)" in result.stdout
    for column in ("fgsm eps=0.1", "fgsm eps=0.3", "pgd eps=0.1"):
        assert column in result.stdout
    assert "pgd eps=0.1 (steps=5,random_start=False)" in result.stdout
    record = json.loads((isolated / "out.json").read_text())["records"][0]
    assert set(record["adversarial_accuracy"]) == {"fgsm:0.1", "fgsm:0.3", "pgd:0.1:steps=5,random_start=False"}


class SpyFGSM(Attack):
    """FGSM that remembers what it was asked to attack."""

    def __init__(self, calls: list):
        self.calls = calls

    def perturb(self, x, gradient, eps, rng):
        g = gradient(x)
        self.calls.append((len(x), frozenset(np.flatnonzero(np.all(g == 0.0, axis=0)).tolist())))
        return FGSM().perturb(x, lambda _: g, eps, rng)


def test_adversarial_training_runs_and_is_recorded(clean_env):
    registry = load_registry()
    calls: list = []
    registry.add(AttackSpec(name="spy", factory=lambda: SpyFGSM(calls)), plugin="test-attacks")
    config = CompareConfig(encoders=("atp",), seeds=1, train_size=64, test_size=40, backend="exact",
                           training=TrainConfig(max_epochs=4, patience=4, batch_size=16),
                           attacks=(parse_attack("fgsm:0.1"),), adversarial_training=parse_attack("spy:0.1"),
                           adversarial_ratio=0.5)
    record = compare(config, registry=registry).records[0]
    assert record.adversarial_training == {"name": "spy", "eps": [0.1], "options": {}, "ratio": 0.5}
    assert set(record.adversarial_accuracy) == {"fgsm:0.1"}
    assert calls, "adversarial training never attacked a batch"
    assert {n for n, _ in calls} == {8}  # half of every batch of 16
    # ATP's candidate trainings are adversarial too: pixels pruned by different candidates
    # show up as different sets of zero-gradient pixels
    assert len({zeros for _, zeros in calls}) > 1
    assert record.encoder_info["trainings"] > 1
