"""ATP's ``joint`` threshold search: its closed-form model is the exact backend's, its
vectorised loop trains every candidate as the harness would, it selects what the exhaustive
search selects (real digits and MNIST, small sizes), it is deterministic; on other models
(``hea``) its engine loop does the same; and it falls back where the harness's training cannot
be reproduced (adversarial batches, COBYLA)."""

from __future__ import annotations

import numpy as np
import pytest

from qenc_bench import FitContext, Split
from qenc_bench.harness import CompareConfig, Engines, ModelTrainer, compare, plan
from qenc_bench.model import ReadoutModel
from qenc_bench.training import TrainConfig
from qenc_encoders.angle import AngleEncoder
from qenc_encoders.atp import ATPEncoder, candidate_thresholds, class_average_maps, prune_mask
from qenc_encoders.atp_closed_form import readout_expval
from qenc_exact import ExactReadoutBackend

SMALL = dict(dataset="digits", train_size=160, test_size=60, backend="exact", training=TrainConfig(max_epochs=40),
             classical=())


def test_closed_form_equals_the_exact_backend():
    rng = np.random.default_rng(7)
    d, n_samples = 9, 50
    x = rng.random((n_samples, d))
    masks = [np.ones(d, bool), rng.random(d) < 0.5, np.eye(d, dtype=bool)[4]]
    masks[1][0] = True  # never empty
    backend, model = ExactReadoutBackend(), ReadoutModel()
    theta, phi = rng.uniform(-np.pi, np.pi, (len(masks), d)), rng.uniform(-np.pi, np.pi, (len(masks), d))
    ours = readout_expval(np.pi * x, np.stack(masks), theta, phi)
    for r, mask in enumerate(masks):
        kept = np.flatnonzero(mask)
        encoder = AngleEncoder(columns=kept).fit(Split(x, np.zeros(n_samples, int)), None)
        circuit = model.build(encoder)
        weights = np.concatenate([theta[r, kept], phi[r, kept]])
        theirs = backend.expval(circuit, encoder.transform(x), weights)
        np.testing.assert_allclose(ours[r], theirs, rtol=0, atol=1e-12)


def _setup(classes=(0, 1), seed=0, **overrides):
    config = CompareConfig(encoders=("atp",), classes=classes, seeds=1, seed=seed, **(SMALL | overrides))
    p = plan(config)
    return p, Engines(p.backends, p.config)


def _joint_fit(p, engines, seed=0, **options):
    data = p.prepared(seed)
    context = ModelTrainer(p.model, data, engines, p.config, seed).context({})
    encoder = ATPEncoder(optimizer="joint", **options).fit(data.train, data.validation, context)
    return encoder, context, data


def _candidates_match_the_harness(encoder, p, data, engines):
    """Every candidate's validation accuracy and epochs are the harness's own training's; returns
    the harness's training of the chosen candidate."""
    reference = ModelTrainer(p.model, data, engines, p.config, 0)
    for candidate in encoder.candidates_:
        kept = np.flatnonzero(~prune_mask(encoder.maps_, candidate["tau"]))
        result = reference.train_candidate(AngleEncoder(columns=kept).fit(data.train, data.validation))
        assert candidate["validation_accuracy"] == result.validation_accuracy
        assert candidate["epochs"] == result.epochs
    return reference.train_candidate(AngleEncoder(columns=encoder.kept_).fit(data.train, data.validation))


@pytest.mark.parametrize("classes", [(3, 8), (0, 1, 4)])
def test_every_candidate_is_trained_as_the_harness_trains_it(classes):
    """Weights, epochs, losses and histories of every candidate match the harness's own
    training of that candidate (binary and one-vs-rest)."""
    p, backends = _setup(classes)
    encoder, context, data = _joint_fit(p, backends)
    assert encoder.info()["search"]["strategy"] == "joint" and "fallback" not in encoder.info()["search"]
    assert context.trainings == len(encoder.candidates_) == encoder.info()["trainings"]
    result = _candidates_match_the_harness(encoder, p, data, backends)
    final = context.final
    np.testing.assert_allclose(final.weights, result.weights, rtol=0, atol=1e-9)
    assert (final.epochs, final.best_epoch, final.converged) == (result.epochs, result.best_epoch, result.converged)
    assert final.validation_loss == pytest.approx(result.validation_loss, abs=1e-12)
    assert final.validation_accuracy == result.validation_accuracy
    assert final.history.keys() == result.history.keys()
    for key in final.history:
        np.testing.assert_allclose(final.history[key], result.history[key], rtol=0, atol=1e-12)


HEA = dict(SMALL, backend="jax", train_backend="jax", model="hea", train_size=80, test_size=40,
           training=TrainConfig(max_epochs=12, patience=4))


@pytest.mark.parametrize("classes", [(3, 8), (0, 1, 4)])
def test_on_the_hea_model_the_engine_loop_trains_every_candidate_as_the_harness(classes):
    """Outside the readout model (a pruned qubit changes the circuit) every candidate and
    restart trains in the engine loop, exactly as the harness trains it (binary and
    one-vs-rest), and the final model is the chosen candidate's."""
    pytest.importorskip("jax")
    p, engines = _setup(classes, **HEA)
    encoder, context, data = _joint_fit(p, engines)
    search = encoder.info()["search"]
    assert search["loop"] == "engine" and "fallback" not in search
    models = 1 if len(classes) == 2 else len(classes)
    assert search["runs"] == search["candidates_trained"] * p.config.training.restarts * models
    assert context.trainings == len(encoder.candidates_) == search["candidates_trained"] > 2
    result = _candidates_match_the_harness(encoder, p, data, engines)
    np.testing.assert_array_equal(context.final.weights, result.weights)  # a call per model: bit for bit
    assert context.final.chosen_restart == result.chosen_restart
    assert context.final.restart_losses == result.restart_losses


def test_on_the_hea_model_joint_selects_what_the_exhaustive_search_selects():
    pytest.importorskip("jax")
    base = dict(HEA, encoders=("atp",), classes=(1, 7), seeds=2)
    exact = compare(CompareConfig(encoder_options={"atp": {"optimizer": "exact"}}, **base)).records
    joint = compare(CompareConfig(**base)).records  # the default search
    for e, j in zip(exact, joint, strict=True):
        assert j.encoder_info["optimizer"] == "joint" and j.encoder_info["search"]["loop"] == "engine"
        assert j.encoder_info["tau"] == e.encoder_info["tau"] and j.accuracy == e.accuracy
        assert j.validation_accuracy == e.validation_accuracy


def test_candidates_are_the_distinct_masks_and_chunking_changes_nothing():
    p, backends = _setup((2, 7))
    one, ctx_one, data = _joint_fit(p, backends)
    maps = class_average_maps(data.train)
    breakpoints = np.max(np.stack(maps), axis=0)
    masks = {tuple(np.flatnonzero(~prune_mask(maps, t))) for t in candidate_thresholds(breakpoints, breakpoints.max())}
    assert sorted(c["qubits"] for c in one.candidates_) == sorted(len(m) for m in masks)
    chunked, ctx_chunked, _ = _joint_fit(p, backends, max_chunk=1)  # one run per loop
    assert chunked.info()["search"]["chunks"] == len(masks) * p.config.training.restarts  # one loop per run
    assert chunked.tau_ == one.tau_ and chunked.candidates_ == one.candidates_
    np.testing.assert_allclose(ctx_chunked.final.weights, ctx_one.final.weights, rtol=0, atol=1e-12)


def _within_one_point_of_exact(dataset_options: dict, pairs, seeds: int) -> None:
    for classes in pairs:
        base = dict(encoders=("atp",), classes=classes, seeds=seeds) | dataset_options
        exact = compare(CompareConfig(encoder_options={"atp": {"optimizer": "exact"}}, **base)).records
        joint = compare(CompareConfig(encoder_options={"atp": {"optimizer": "joint"}}, **base)).records
        for e, j in zip(exact, joint, strict=True):
            assert j.validation_accuracy >= e.validation_accuracy - 0.01, (classes, e.seed)
            assert j.encoder_info["trainings"] == len(j.encoder_info["candidates"])
            assert j.encoder_info["search"]["loop_epochs"] <= SMALL["training"].max_epochs
            # in fact the same choice: the joint loop reproduces the exhaustive search's trainings
            assert j.encoder_info["tau"] == e.encoder_info["tau"] and j.accuracy == e.accuracy


def test_selects_within_one_point_of_the_exhaustive_search_on_digits():
    _within_one_point_of_exact(SMALL, [(3, 8), (1, 7)], seeds=2)


def test_selects_within_one_point_of_the_exhaustive_search_on_mnist(shared_data):
    options = SMALL | dict(dataset="mnist", data_dir=str(shared_data), train_size=120)
    _within_one_point_of_exact(options, [(2, 8)], seeds=2)


def test_deterministic_for_a_seed():
    p, backends = _setup((3, 8), seed=1)
    a, ctx_a, _ = _joint_fit(p, backends, seed=1)
    b, ctx_b, _ = _joint_fit(p, backends, seed=1)
    assert a.info() == b.info()
    np.testing.assert_array_equal(ctx_a.final.weights, ctx_b.final.weights)


def test_falls_back_without_a_training_plan():
    """A context without ``training_plan`` (e.g. an older harness): the fallback searches."""
    x = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.1], [0.1, 0.9, 0.0], [0.2, 0.7, 0.1]])
    split = Split(x, np.array([0, 0, 1, 1]))
    scores = {(0, 1, 2): 0.5, (0, 1): 0.75, (1,): 0.5, (0,): 0.5}
    context = FitContext(seed=0, score=lambda enc: scores[tuple(int(c) for c in enc.columns)])
    encoder = ATPEncoder(optimizer="joint", fallback="exact").fit(split, split, context)
    assert encoder.info()["search"] == {"strategy": "joint", "fallback": "exact",
                                        "reason": "the harness gives no training plan"}
    assert encoder.kept_.tolist() == [0, 1]
    assert encoder.info()["trainings"] == len({tuple(np.flatnonzero(~prune_mask(encoder.maps_, c["tau"])))
                                               for c in encoder.candidates_})


def test_falls_back_when_training_is_not_adam():
    config = CompareConfig(encoders=("atp",), classes=(0, 1), seeds=1, encoder_options={"atp": {"optimizer": "joint"}},
                           **(SMALL | dict(train_size=40, training=TrainConfig(optimizer="cobyla", max_iterations=25))))
    record = compare(config).records[0]
    assert record.encoder_info["search"]["fallback"] == "warm"
    assert "cobyla" in record.encoder_info["search"]["reason"]


def test_products_without_each_factor_and_the_minibatch_gather_path(monkeypatch):
    import qenc_encoders.atp_closed_form as atp_module

    rng = np.random.default_rng(3)
    c = rng.normal(size=(5, 2, 3)) + 1j * rng.normal(size=(5, 2, 3))
    c[2, 0, 1] = 0.0  # a vanishing factor: the division shortcut fails, this does not
    expected = np.stack([np.prod(np.delete(c, j, axis=0), axis=0) for j in range(5)])
    np.testing.assert_allclose(atp_module._products_without_each(c), expected, rtol=1e-12, atol=0)

    p, backends = _setup((3, 8))
    whole, ctx_whole, _ = _joint_fit(p, backends)
    monkeypatch.setattr(atp_module, "_EPOCH_GATHER_LIMIT", 0)  # gather every minibatch instead
    batched, ctx_batched, _ = _joint_fit(p, backends)
    assert batched.info() == whole.info()
    np.testing.assert_array_equal(ctx_batched.final.weights, ctx_whole.final.weights)
