"""Training the run's model for a fitted encoder: restarts, one-vs-rest, adversarial batches.

Every model of a comparison gets the same budget (:class:`~qenc_bench.TrainConfig`): the same
optimizer, epochs, patience and learning rate, and the same number of restarts, the best
validation loss of which is kept. Restart ``r`` of a seed starts from the generator
:func:`~qenc_bench.training.restart_seed` gives, the same for every encoder, so two encoders
that build the same circuit and features train to the same weights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..attacks import margin_gradient_fn
from ..circuit import Circuit
from ..encoders import Encoder, FitContext, PlannedRun, TrainingPlan
from ..metrics import accuracy
from ..model import Model
from ..prepare import PreparedData
from ..training import TrainConfig, TrainResult, keep_best_restart, restart_seed, stack_models, train
from .config import CompareConfig
from .engines import Engine, Engines


def outputs_of(engine: Engine, circuit: Circuit, features: np.ndarray, weights: np.ndarray,
               evaluate: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Outputs (N,) of a binary model, or (N, k) of a one-vs-rest model (weights (k, W)).
    ``evaluate(features, weights)`` defaults to the engine's ``expval``."""
    run = evaluate or (lambda f, w: engine.backend.expval(circuit, f, w))
    weights = np.asarray(weights)
    if weights.ndim == 1:
        return run(features, weights)
    return np.stack([run(features, w) for w in weights], axis=1)


def predictions(outputs: np.ndarray) -> np.ndarray:
    """Binary: label 1 where the output is positive; one-vs-rest: the class whose model outputs the most."""
    return (outputs > 0).astype(np.int64) if outputs.ndim == 1 else np.argmax(outputs, axis=1)


def predict_accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    if outputs.ndim == 1:
        return accuracy(outputs, labels)
    return float(np.mean(np.argmax(outputs, axis=1) == labels))


@dataclass(frozen=True)
class Trained:
    circuit: Circuit
    result: TrainResult
    engine: str


class ModelTrainer:
    """Trains the model for fitted encoders on one seed's data; caches by (circuit, features,
    budget) so a candidate an encoder already trained is not trained again.

    :param data: the seed's splits; each encoder reads its own view of them.
    :param attacks: the built attack of ``config.adversarial_training``, if any.
    """

    def __init__(self, model: Model, data: PreparedData, engines: Engines, config: CompareConfig, seed: int,
                 attacks: dict | None = None):
        self.model, self.data, self.engines, self.config, self.seed = model, data, engines, config, seed
        self.attacks = attacks or {}
        self._cache: dict[tuple, Trained] = {}

    @property
    def n_classes(self) -> int:
        return len(self.data.classes)

    def _labels(self) -> list[tuple[int | None, np.ndarray, np.ndarray]]:
        y_train, y_val = self.data.train.y, self.data.validation.y
        if self.n_classes == 2:
            return [(None, y_train, y_val)]
        return [(c, (y_train == c).astype(np.int64), (y_val == c).astype(np.int64)) for c in range(self.n_classes)]

    def fit(self, encoder: Encoder, initial_weights: np.ndarray | None = None, max_epochs: int | None = None,
            patience: int | None = None) -> Trained:
        """Train the model for ``encoder`` (every restart, unless warm-started from
        ``initial_weights``, which is one training)."""
        circuit = self.model.build(encoder)
        self.engines.check(circuit)  # every engine it needs must exist: fail before training
        engine = self.engines.training(circuit)
        view = self.data.view(encoder.view)
        x_train, x_val = encoder.transform(view.train.x), encoder.transform(view.validation.x)
        budget = self.config.training
        if max_epochs is not None or patience is not None:
            budget = replace(budget, max_epochs=max_epochs or budget.max_epochs, patience=patience or budget.patience)
        digest = hashlib.sha1(x_train.tobytes() + x_val.tobytes())
        if initial_weights is not None:
            digest.update(np.asarray(initial_weights, dtype=np.float64).tobytes())
        key = (circuit, digest.hexdigest(), engine.name, budget)
        if key not in self._cache:
            self._cache[key] = Trained(circuit, self._train(encoder, circuit, engine, x_train, x_val, initial_weights,
                                                            budget), engine.name)
        return self._cache[key]

    def _train(self, encoder: Encoder, circuit: Circuit, engine: Engine, x_train: np.ndarray, x_val: np.ndarray,
               initial_weights: np.ndarray | None, budget: TrainConfig) -> TrainResult:
        """One binary model, or one-vs-rest: one per class (class c against the rest), whose
        weights are stacked (k, W) and whose prediction is the argmax of outputs."""
        restarts = 1 if initial_weights is not None else budget.restarts
        per_model = []
        for c, y_train, y_val in self._labels():
            tries = []
            for r in range(restarts):
                rng = np.random.default_rng(restart_seed(self.seed, c, r))
                if initial_weights is None:
                    weights = self.model.init_weights(circuit, rng)
                else:
                    weights = initial_weights if c is None else initial_weights[c]
                batches = self._adversarial_batches(encoder, circuit, engine) if c is None else None
                tries.append(train(circuit, engine.backend, x_train, y_train, x_val, y_val,
                                   np.asarray(weights, dtype=np.float64), budget, rng, batch_features=batches))
            per_model.append(keep_best_restart(tries))
        if len(per_model) == 1:
            return per_model[0]
        return self.stack(per_model, circuit, engine, x_val)

    def stack(self, results: list[TrainResult], circuit: Circuit, engine: Engine, x_val: np.ndarray) -> TrainResult:
        """One-vs-rest: the k binary models as one result (validation accuracy of the argmax)."""
        val_out = outputs_of(engine, circuit, x_val, np.stack([r.weights for r in results]))
        return stack_models(results, predict_accuracy(val_out, self.data.validation.y))

    def _adversarial_batches(self, encoder: Encoder, circuit: Circuit, engine: Engine):
        setting = self.config.adversarial_training
        if setting is None:
            return None
        attack, eps = self.attacks[setting], setting.eps[0]
        images, y_all = self.data.train.images(), self.data.train.y
        ratio, data, view = self.config.adversarial_ratio, self.data, encoder.view
        attack_engine = self.engines.attack(circuit)

        def batch_features(batch: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            k = int(round(ratio * len(batch)))  # the batch is already shuffled: attack its first k
            x = images[batch].copy()
            if k:
                gradient, _ = margin_gradient_fn(encoder, circuit, attack_engine.backend, weights, y_all[batch[:k]])
                x[:k] = attack.perturb(x[:k], lambda z: data.from_view(gradient(data.to_view(z, view)), view), eps,
                                       rng)
            return encoder.transform(data.to_view(x, view))

        return batch_features

    # --- what a fitting encoder may ask for (FitContext) --------------------------------------
    def score(self, candidate: Encoder) -> float:
        return self.fit(candidate).result.validation_accuracy

    def train_candidate(self, candidate: Encoder, initial_weights=None, max_epochs=None, patience=None) -> TrainResult:
        return self.fit(candidate, initial_weights, max_epochs, patience).result

    def validation_accuracy(self, candidate: Encoder, weights: np.ndarray) -> float:
        circuit = self.model.build(candidate)
        engine = self.engines.training(circuit)
        x_val = candidate.transform(self.data.view(candidate.view).validation.x)
        return predict_accuracy(outputs_of(engine, circuit, x_val, weights), self.data.validation.y)

    def training_plan(self, candidate: Encoder) -> TrainingPlan | None:
        """What :meth:`_train` would do for a candidate (same circuit, backend, budget, initial
        weights, generators and labels for every restart); ``None`` under adversarial training,
        whose minibatches depend on the harness's attacks."""
        if self.config.adversarial_training is not None:
            return None
        circuit = self.model.build(candidate)
        self.engines.check(circuit)
        engine = self.engines.training(circuit)
        runs = []
        for model, (c, y_train, y_val) in enumerate(self._labels()):
            for r in range(self.config.training.restarts):
                rng = np.random.default_rng(restart_seed(self.seed, c, r))
                weights = np.asarray(self.model.init_weights(circuit, rng), dtype=np.float64)
                runs.append(PlannedRun(model, r, weights, rng, y_train, y_val))
        return TrainingPlan(circuit=circuit, backend=engine.backend, backend_name=engine.name,
                            config=self.config.training, runs=tuple(runs))

    def context(self, fitted_qubits: dict[str, int]) -> FitContext:
        return FitContext(seed=self.seed, score=self.score, train=self.train_candidate,
                          validation_accuracy=self.validation_accuracy,
                          restrict_weights=self.model.restrict_weights, training_plan=self.training_plan,
                          grid_features=self.data.n_features, fitted_qubits=dict(fitted_qubits))
