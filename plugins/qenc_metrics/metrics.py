"""The four encoding metrics: expressibility over the data distribution, entangling
capability, kernel-target alignment and trainability (definitions: docs/metrics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np

from qenc_bench import EncodingMetric, MetricContext, MetricUnavailable, MetricValue

from .measures import (
    hinge_cotangent,
    kernel_target_alignment,
    kl_from_haar,
    meyer_wallach,
    one_vs_rest_targets,
)
from .states import FeatureStates


def _count(name: str, value: object, least: int = 1) -> int:
    """An integer option (the CLI may hand over 2000 or 2000.0), at least ``least``."""
    number = float(value) if isinstance(value, Real) and not isinstance(value, bool) else float("nan")
    if not (np.isfinite(number) and number == int(number) and number >= least):
        raise ValueError(f"{name} must be an integer of at least {least}, got {value!r}")
    return int(number)


def _subsample(rng: np.random.Generator, n: int, limit: int | None) -> np.ndarray:
    """Indices of at most ``limit`` of ``n`` samples, drawn without replacement (all, in order,
    when there are no more than ``limit``)."""
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(rng.choice(n, size=limit, replace=False))


@dataclass(frozen=True)
class Expressibility(EncodingMetric):
    """KL divergence of the data's pairwise fidelity histogram from the Haar distribution.

    :param pairs: pairs of distinct training samples drawn with ``context.rng``.
    :param bins: equal bins of [0, 1] (Sim et al. use 75).
    """

    pairs: int = 2000
    bins: int = 75

    name = "expressibility"
    label = "expr KL"
    higher_is_better = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "pairs", _count("pairs", self.pairs))
        object.__setattr__(self, "bins", _count("bins", self.bins))

    def compute(self, context: MetricContext) -> MetricValue:
        n = len(context.train)
        if n < 2:
            raise MetricUnavailable(f"expressibility needs two training samples, the split has {n}")
        first = context.rng.integers(0, n, self.pairs)
        second = (first + context.rng.integers(1, n, self.pairs)) % n  # uniform over j != i
        used, position = np.unique(np.r_[first, second], return_inverse=True)
        states = FeatureStates.of(context, context.train.x[used])
        fidelities = states.fidelities(position[: self.pairs], position[self.pairs :])
        n_qubits = context.feature_map.n_qubits
        return MetricValue(kl_from_haar(fidelities, n_qubits, self.bins), {
            "pairs": self.pairs, "bins": self.bins, "train_samples": n, "qubits": n_qubits,
            "mean_fidelity": float(fidelities.mean()), "haar_mean_fidelity": 2.0**-n_qubits,
            "log": "natural", "path": states.path,
        })


@dataclass(frozen=True)
class EntanglingCapability(EncodingMetric):
    """Meyer-Wallach Q of the feature-map state, mean over test samples.

    :param max_samples: at most this many test samples (drawn with ``context.rng``).
    """

    max_samples: int = 500

    name = "entangling"
    label = "MW Q"
    higher_is_better = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_samples", _count("max_samples", self.max_samples))

    def compute(self, context: MetricContext) -> MetricValue:
        n = len(context.test)
        if n == 0:
            raise MetricUnavailable("the test split is empty")
        chosen = _subsample(context.rng, n, self.max_samples)
        details = {"test_samples": len(chosen), "qubits": context.feature_map.n_qubits}
        if context.product_state:  # no two-qubit gate: every qubit's reduced state is pure
            return MetricValue(0.0, {**details, "max": 0.0, "path": "product state, closed form"})
        states = FeatureStates.of(context, context.test.x[chosen])
        q = meyer_wallach(states.vectors)
        return MetricValue(float(q.mean()), {**details, "max": float(q.max()), "path": states.path})


@dataclass(frozen=True)
class KernelAlignment(EncodingMetric):
    """Kernel-target alignment of the fidelity kernel on (a subsample of) the training split;
    targets y_i y_j = +1 for the same class, -1 otherwise.

    :param max_samples: at most this many training samples (drawn with ``context.rng``).
    """

    max_samples: int = 500

    name = "alignment"
    label = "KTA"
    higher_is_better = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_samples", _count("max_samples", self.max_samples, least=2))

    def compute(self, context: MetricContext) -> MetricValue:
        chosen = _subsample(context.rng, len(context.train), self.max_samples)
        if len(chosen) < 2:
            raise MetricUnavailable(f"alignment needs two training samples, the split has {len(chosen)}")
        states = FeatureStates.of(context, context.train.x[chosen])
        labels = context.train.y[chosen]
        kernel = states.kernel()
        return MetricValue(kernel_target_alignment(kernel, labels), {
            "train_samples": len(chosen), "classes": int(len(np.unique(labels))),
            "targets": "y_i y_j = +1 same class, -1 otherwise", "mean_kernel": float(kernel.mean()),
            "path": states.path,
        })


@dataclass(frozen=True)
class Trainability(EncodingMetric):
    """Variance over random initialisations of the mean-hinge-loss gradient, averaged over the
    model's parameters, on one fixed training batch.

    :param initialisations: weight draws ``model.init_weights(circuit, rng)``.
    :param batch: training samples in the fixed batch (default: the training minibatch size of
        :class:`~qenc_bench.TrainConfig`; the whole split when it is smaller, else drawn with
        ``context.rng`` before the weights).
    """

    initialisations: int = 50
    batch: int = 32

    name = "trainability"
    label = "grad var"
    higher_is_better = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "initialisations", _count("initialisations", self.initialisations, least=2))
        object.__setattr__(self, "batch", _count("batch", self.batch))

    def compute(self, context: MetricContext) -> MetricValue:
        circuit = context.circuit
        if circuit.n_weights == 0:
            raise MetricUnavailable("the model has no weights")
        chosen = _subsample(context.rng, len(context.train), self.batch)
        if len(chosen) == 0:
            raise MetricUnavailable("the training split is empty")
        features = context.encoder.transform(context.train.x[chosen])
        targets = one_vs_rest_targets(context.train.y[chosen])
        gradients = np.empty((self.initialisations, len(targets), circuit.n_weights))
        for r in range(self.initialisations):
            weights = context.model.init_weights(circuit, context.rng)
            outputs, vjp = context.expval_vjp(circuit, features, weights)
            for c, y in enumerate(targets):
                gradients[r, c] = vjp(hinge_cotangent(np.asarray(outputs), y)).weights
        variance = gradients.var(axis=0, ddof=1)  # (targets, weights)
        return MetricValue(float(variance.mean()), {
            "initialisations": self.initialisations, "batch": len(chosen), "parameters": circuit.n_weights,
            "loss": "mean hinge", "targets": len(targets),
            "min_parameter_variance": float(variance.min()), "max_parameter_variance": float(variance.max()),
            "model": context.model.label,
        })
