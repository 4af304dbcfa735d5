"""Training: Adam with early stopping, COBYLA for hardware, the shared budget."""

from __future__ import annotations

import numpy as np
import pytest

from qenc_bench.errors import ConfigError
from qenc_bench.metrics import hinge_loss
from qenc_bench.model import ReadoutModel
from qenc_bench.prepare import prepare
from qenc_bench.training import TrainConfig, hinge_cotangent, train
from qenc_datasets.digits import DigitsDataset
from qenc_encoders.angle import AngleEncoder
from qenc_exact import ExactReadoutBackend


@pytest.fixture(scope="module")
def problem():
    data = prepare(DigitsDataset().load(None), (3, 8), grid=3, train_size=160, test_size=60, seed=0)
    encoder = AngleEncoder().fit(data.train, data.validation)
    circuit = ReadoutModel().build(encoder)
    return data, encoder, circuit


def run(problem, config: TrainConfig, seed: int = 0):
    data, encoder, circuit = problem
    rng = np.random.default_rng(seed)
    weights = ReadoutModel().init_weights(circuit, rng)
    return train(circuit, ExactReadoutBackend(), encoder.transform(data.train.x), data.train.y,
                 encoder.transform(data.validation.x), data.validation.y, weights, config, rng)


def test_hinge_cotangent_is_the_gradient_of_the_mean_hinge_loss():
    rng = np.random.default_rng(1)
    outputs, labels = rng.uniform(-1, 1, 20), rng.integers(0, 2, 20)
    h = 1e-7
    numeric = [(hinge_loss(outputs + h * e, labels) - hinge_loss(outputs - h * e, labels)) / (2 * h) for e in np.eye(20)]
    np.testing.assert_allclose(hinge_cotangent(outputs, labels), numeric, atol=1e-6)


def test_adam_lowers_the_loss_and_early_stopping_keeps_the_best_validation_weights(problem):
    result = run(problem, TrainConfig(max_epochs=200, patience=5))
    history = result.history["validation_loss"]
    assert result.converged and result.epochs < 200
    assert result.epochs == result.best_epoch + 5  # stopped after `patience` epochs without improvement
    assert result.validation_loss == pytest.approx(min(history))
    assert history[0] > result.validation_loss
    assert result.validation_accuracy > 0.7


def test_an_epoch_cap_reached_is_reported_as_not_converged(problem):
    result = run(problem, TrainConfig(max_epochs=2, patience=50))
    assert result.epochs == 2 and not result.converged


def test_training_is_deterministic_for_a_seed(problem):
    a, b = run(problem, TrainConfig(max_epochs=5)), run(problem, TrainConfig(max_epochs=5))
    np.testing.assert_array_equal(a.weights, b.weights)


def test_cobyla_is_gradient_free_and_keeps_to_its_evaluation_budget(problem):
    result = run(problem, TrainConfig(optimizer="cobyla", max_iterations=25))
    assert len(result.history["train_loss"]) == result.epochs <= 25
    assert min(result.history["train_loss"]) < result.history["train_loss"][0]


def test_cobyla_with_too_few_evaluations_for_its_weights_is_a_config_error(problem):
    with pytest.raises(ConfigError, match="at least 20 loss evaluations for 18 weights"):
        run(problem, TrainConfig(optimizer="cobyla", max_iterations=10))


def test_bad_budgets_are_config_errors():
    with pytest.raises(ConfigError, match="unknown optimizer"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ConfigError, match="maxiter"):
        TrainConfig(max_iterations=0)
    with pytest.raises(ConfigError, match="learning rate"):
        TrainConfig(learning_rate=0)
