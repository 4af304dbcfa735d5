"""``train_jointly``: many models trained in one lock-step loop, each exactly as ``train``
trains it alone (bit for bit with a call per model, to rounding with one call per circuit
and per-row weights), on the jax engine and on a backend without per-row weights."""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("jax")

from qenc_bench import ConfigError, JointRun, TrainConfig, train_jointly  # noqa: E402
from qenc_bench.model import ReadoutModel  # noqa: E402
from qenc_bench.prepare import prepare  # noqa: E402
from qenc_bench.training import train  # noqa: E402
from qenc_datasets.digits import DigitsDataset  # noqa: E402
from qenc_encoders.angle import AngleEncoder  # noqa: E402
from qenc_exact import ExactReadoutBackend  # noqa: E402
from qenc_jax.backend import JaxBackend  # noqa: E402
from qenc_models import HardwareEfficientModel  # noqa: E402

CONFIG = TrainConfig(max_epochs=12, patience=3, batch_size=16)


@pytest.fixture(scope="module")
def data():
    return prepare(DigitsDataset().load(None), (3, 8), grid=3, train_size=72, test_size=20, seed=0)


def runs_for(data, model, column_sets, restarts: int = 2) -> list[JointRun]:
    """Restarts of ``model`` on angle encodings of each column set (a repeated set shares its
    circuit with the first, with other features when the columns differ)."""
    runs = []
    for k, columns in enumerate(column_sets):
        encoder = AngleEncoder(columns=list(columns)).fit(data.train, data.validation)
        circuit = model.build(encoder)
        for r in range(restarts):
            rng = np.random.default_rng([k, r])
            weights = np.asarray(model.init_weights(circuit, rng), dtype=np.float64)
            runs.append(JointRun(circuit, encoder.transform(data.train.x), data.train.y,
                                 encoder.transform(data.validation.x), data.validation.y, weights, rng))
    return runs


def alone(backend, runs):
    """Each run trained by ``train`` on its own (from copies of the generators)."""
    return [train(r.circuit, backend, r.train_features, r.train_labels, r.val_features, r.val_labels,
                  r.initial_weights, CONFIG, copy.deepcopy(r.rng)) for r in runs]


def fresh(runs):
    return [JointRun(r.circuit, r.train_features, r.train_labels, r.val_features, r.val_labels, r.initial_weights,
                     copy.deepcopy(r.rng)) for r in runs]


@pytest.fixture(scope="module")
def hea_runs(data):
    # three circuits (3, 4 and 2 qubits); (5, 6, 7) shares the first's circuit with other pixels
    return runs_for(data, HardwareEfficientModel(layers=1), [(0, 1, 2), (3, 4, 5, 6), (5, 6, 7), (4, 8)])


@pytest.fixture(scope="module")
def jax_backend():
    return JaxBackend()


def test_a_call_per_model_gives_train_s_results_bit_for_bit(hea_runs, jax_backend):
    reference = alone(jax_backend, hea_runs)
    results, cost = train_jointly(jax_backend, fresh(hea_runs), CONFIG, batch_runs=False)
    assert len({r.epochs for r in reference}) > 1  # runs stop at different epochs: some leave the loop early
    for ours, theirs in zip(results, reference, strict=True):
        np.testing.assert_array_equal(ours.weights, theirs.weights)
        assert (ours.epochs, ours.best_epoch, ours.converged) == (theirs.epochs, theirs.best_epoch, theirs.converged)
        assert (ours.validation_loss, ours.validation_accuracy) == (theirs.validation_loss, theirs.validation_accuracy)
        assert ours.history["validation_loss"] == theirs.history["validation_loss"]
        np.testing.assert_allclose(ours.history["train_loss"], theirs.history["train_loss"], rtol=0, atol=1e-15)
    steps_per_epoch = -(-len(hea_runs[0].train_labels) // CONFIG.batch_size)
    assert cost["loop_epochs"] == max(r.epochs for r in reference)
    assert cost["minibatch_steps"] == cost["loop_epochs"] * steps_per_epoch
    assert cost["calls"] == sum(r.epochs * (steps_per_epoch + 1) for r in reference)  # a call per model


def test_one_call_per_circuit_with_per_row_weights_gives_train_s_results(hea_runs, jax_backend):
    reference = alone(jax_backend, hea_runs)
    results, cost = train_jointly(jax_backend, fresh(hea_runs), CONFIG, batch_runs=True)
    for ours, theirs in zip(results, reference, strict=True):
        np.testing.assert_allclose(ours.weights, theirs.weights, rtol=0, atol=1e-8)
        assert (ours.epochs, ours.best_epoch, ours.converged) == (theirs.epochs, theirs.best_epoch, theirs.converged)
        assert ours.validation_accuracy == theirs.validation_accuracy
        np.testing.assert_allclose(ours.validation_loss, theirs.validation_loss, rtol=0, atol=1e-10)
    # every step: one call per circuit that still has a run in the loop (3 circuits at first)
    steps_per_epoch = -(-len(hea_runs[0].train_labels) // CONFIG.batch_size)
    circuits_per_epoch = [len({r.circuit for r, t in zip(hea_runs, reference, strict=True) if t.epochs >= epoch})
                          for epoch in range(1, cost["loop_epochs"] + 1)]
    assert circuits_per_epoch[0] == 3
    assert cost["calls"] == sum(circuits_per_epoch) * (steps_per_epoch + 1)


def test_a_backend_without_per_row_weights_trains_a_model_per_call(data):
    runs = runs_for(data, ReadoutModel(), [(0, 1, 2, 3), (2, 5)], restarts=2)
    backend = ExactReadoutBackend()
    reference = alone(backend, runs)
    results, _ = train_jointly(backend, fresh(runs), CONFIG)
    for ours, theirs in zip(results, reference, strict=True):
        np.testing.assert_array_equal(ours.weights, theirs.weights)
        assert ours.epochs == theirs.epochs
    with pytest.raises(ConfigError, match="one weight vector per call"):
        train_jointly(backend, fresh(runs), CONFIG, batch_runs=True)


def test_bad_loops_are_config_errors(data, hea_runs, jax_backend):
    with pytest.raises(ConfigError, match="trains with adam, not 'cobyla'"):
        train_jointly(jax_backend, fresh(hea_runs), TrainConfig(optimizer="cobyla"))
    short = hea_runs[1]
    short = JointRun(short.circuit, short.train_features[:-3], short.train_labels[:-3], short.val_features,
                     short.val_labels, short.initial_weights, short.rng)
    with pytest.raises(ConfigError, match="one training-set size"):
        train_jointly(jax_backend, [hea_runs[0], short], CONFIG)
    assert train_jointly(jax_backend, [], CONFIG) == ([], {"loop_epochs": 0, "minibatch_steps": 0, "calls": 0})


def test_the_jax_backend_batches_models_by_default_only_on_a_gpu(jax_backend):
    assert jax_backend.capabilities.row_weights and not jax_backend.prefers_row_batches
    assert not ExactReadoutBackend().prefers_row_batches
