"""The encoding-metric interface: measures of an encoding beyond accuracy (expressibility,
entangling capability, kernel alignment, trainability), computed per encoder and seed on the
prepared data and stored in each record's ``metrics``.

A metric plugin registers a :class:`~qenc_bench.MetricSpec` (hook
``qenc_bench_register_metrics``) whose factory builds an :class:`EncodingMetric`. For every
encoder and seed of a comparison run with ``--metrics NAME,...`` (or ``all``), the harness
calls ``compute(context)`` with a :class:`MetricContext`: the fitted encoder, its feature map
and the model's circuit, the splits the encoder reads, a seeded generator, and the engines
(statevectors of any circuit, values and gradients of the model). The harness records the
value, what it cost in seconds, and the metric's details; a metric that cannot be computed
raises :class:`MetricUnavailable` and the record says why (the run goes on).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .circuit import Circuit
from .encoders import Encoder
from .errors import QencBenchError
from .model import Model
from .prepare import Split


class MetricUnavailable(QencBenchError):
    """This metric cannot be computed here (the message says why: e.g. no engine gives
    statevectors of a 20-qubit feature map). The record keeps the reason; the run goes on."""


@dataclass(frozen=True)
class MetricValue:
    """What a metric found: ``value`` (a number) and ``details`` (JSON-serialisable: the pair
    count, the bin count, the initialisations, ... whatever a reader needs to trust it)."""

    value: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricContext:
    """What the harness lends a metric for one encoder and seed.

    :param encoder: the fitted encoder; ``encoder.transform(split.x)`` gives its features.
    :param feature_map: the encoder's feature map alone as a circuit (``n_weights`` 0, readout
        wire 0), on ``encoder.n_qubits`` qubits.
    :param circuit: the model's full circuit for this encoder (the one trained).
    :param model: the run's model (``model.init_weights(circuit, rng)`` draws initial weights).
    :param train, test: the splits in the view the encoder reads.
    :param rng: a generator seeded by the run's seed and the metric's name.
    :param statevectors: ``statevectors(circuit, features, weights)`` -> (N, 2^n) complex
        statevectors (wire 0 the most significant bit), from the fastest installed engine that
        gives states; raises :class:`MetricUnavailable` when none can.
    :param expval_vjp: ``expval_vjp(circuit, features, weights)`` -> (values (N,), vjp) on the
        training engine: ``vjp(cotangent).weights`` is the weight gradient.
    """

    encoder: Encoder
    feature_map: Circuit
    circuit: Circuit
    model: Model
    train: Split
    test: Split
    seed: int
    rng: np.random.Generator
    statevectors: Callable[[Circuit, np.ndarray, np.ndarray], np.ndarray]
    expval_vjp: Callable[[Circuit, np.ndarray, np.ndarray], tuple[np.ndarray, Any]]

    @property
    def product_state(self) -> bool:
        """Whether the feature map has no two-qubit gate: its states are products of one-qubit
        states, so fidelities and entanglement have closed forms."""
        return self.feature_map.two_qubit_gates == 0


class EncodingMetric(ABC):
    """A measure of an encoding; see the module docstring."""

    name: str = "metric"
    #: the column header of tables (short), and whether higher is better (for reading)
    label: str = ""
    higher_is_better: bool | None = None

    @abstractmethod
    def compute(self, context: MetricContext) -> MetricValue:
        """The metric of one encoder and seed; raise :class:`MetricUnavailable` to skip it."""
