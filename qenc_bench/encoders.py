"""The encoder interface: how classical features become circuit parameters.

An encoder is fitted on the training split (and may use the validation split to choose
hyper-parameters, as ATP chooses its threshold), then describes its feature map as ops on
wires ``0 .. n_qubits - 1`` reading the columns of :meth:`Encoder.transform`'s output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .circuit import Circuit, Op
from .prepare import Split


@dataclass
class FitContext:
    """What the harness lends an encoder during ``fit``.

    :param seed: the run's seed; make any randomness a ``numpy.random.default_rng`` from it.
    :param score: trains the run's model with a candidate (fitted) encoder under the run's
        training budget on the training split and returns its VALIDATION accuracy. ATP
        uses it to choose its threshold.
    :param train: ``train(candidate, initial_weights=None, max_epochs=None, patience=None)``
        trains the run's model for a candidate and returns its
        :class:`~qenc_bench.training.TrainResult` (warm starts and shorter budgets allowed).
    :param validation_accuracy: ``validation_accuracy(candidate, weights)``: no training.
    :param restrict_weights: ``restrict_weights(weights, n_qubits, kept)``: the model's weights
        for the qubits ``kept`` of a model on ``n_qubits`` qubits (for warm starts).
    :param trainings: incremented by the encoder per training it causes, for the record.
    :param final: an encoder that already trained its final model (ATP's chosen candidate)
        sets it to that :class:`~qenc_bench.training.TrainResult`; the harness then does not
        train again.
    :param training_plan: ``training_plan(candidate)`` returns the :class:`TrainingPlan` the
        harness would follow to train the run's model for a candidate, for an encoder that
        trains candidates itself (ATP's ``joint`` search), or ``None`` when the training
        cannot be reproduced from a plan (adversarial training). No training happens.
    :param grid_features: the number of features of the grid view (what angle encoding reads):
        an encoder of another view can match its qubit budget (PCA's default ``k``).
    :param fitted_qubits: the qubit counts of the encoders fitted before this one on the same
        seed, by name (PCA's ``k=atp`` reads ATP's).
    """

    seed: int
    score: Callable[[Encoder], float]
    train: Callable[..., Any] | None = None
    validation_accuracy: Callable[[Encoder, np.ndarray], float] | None = None
    restrict_weights: Callable[[np.ndarray, int, Any], np.ndarray] | None = None
    trainings: int = 0
    final: Any = None
    notes: dict[str, Any] = field(default_factory=dict)
    training_plan: Callable[[Encoder], TrainingPlan | None] | None = None
    grid_features: int | None = None
    fitted_qubits: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedRun:
    """One training the harness would run for a candidate: binary model ``model`` (0 for two
    classes; class c against the rest for one-vs-rest) from initialisation ``restart``.

    :param rng: the generator in the state after drawing ``initial_weights``: the one that
        shuffles the minibatches (a fresh object: using it does not disturb the harness).
    :param train_labels, validation_labels: the binary model's labels in {0, 1}.
    """

    model: int
    restart: int
    initial_weights: np.ndarray
    rng: np.random.Generator
    train_labels: np.ndarray
    validation_labels: np.ndarray


@dataclass(frozen=True)
class TrainingPlan:
    """How the harness trains the run's model for one candidate encoder: everything needed
    to reproduce :func:`~qenc_bench.training.train` outside the harness, restarts included.

    For each binary model the harness trains every restart of :attr:`runs` and keeps the one
    :func:`~qenc_bench.training.best_restart` picks (lowest validation loss).

    :param circuit: the model's circuit for the candidate.
    :param backend: the backend that would train it; :param backend_name: its registered name.
    :param config: the run's :class:`~qenc_bench.TrainConfig`.
    :param runs: every training, binary models x restarts, in that order.
    """

    circuit: Circuit
    backend: Any
    backend_name: str
    config: Any
    runs: tuple[PlannedRun, ...]

    @property
    def models(self) -> int:
        return 1 + max(r.model for r in self.runs)


class Encoder(ABC):
    """A data encoding. Subclasses set ``n_qubits`` in :meth:`fit`."""

    #: set by the registry spec's name when built by the harness
    name: str = "encoder"
    n_qubits: int = 0
    #: the view of a sample it reads: ``"grid"`` (the s x s grid) or ``"image"`` (full resolution)
    view: str = "grid"

    @abstractmethod
    def fit(self, train: Split, validation: Split, context: FitContext) -> Encoder:
        """Learn what the encoding needs from the training split; return ``self``."""

    @abstractmethod
    def feature_map(self) -> tuple[Op, ...]:
        """The encoding circuit on wires ``0 .. n_qubits - 1``; parameters are feature columns."""

    @abstractmethod
    def transform(self, x: np.ndarray) -> np.ndarray:
        """Map samples (N, d) in [0, 1] to the circuit's feature matrix (N, n_parameters)."""

    def input_vjp(self, x: np.ndarray, grad_parameters: np.ndarray) -> np.ndarray:
        """Pull a gradient w.r.t. the feature matrix back to the input pixels (N, d).

        Encoders whose parameters are elementwise functions of the pixels override this;
        the default says the encoder has no input gradient.
        """
        raise NotImplementedError(f"encoder {self.name!r} does not provide input gradients")

    def info(self) -> dict[str, Any]:
        """What a result should record about the fitted encoder (JSON-serialisable)."""
        return {}
