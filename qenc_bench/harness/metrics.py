"""Encoding metrics per encoder and seed (the interface: :mod:`qenc_bench.encoding_metrics`):
the harness builds each metric's :class:`~qenc_bench.MetricContext`, times the computation
and records the value, or the reason it was skipped."""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..circuit import Circuit
from ..encoders import Encoder
from ..encoding_metrics import EncodingMetric, MetricContext, MetricUnavailable
from ..errors import IncompatibleComponentsError
from ..model import Model
from ..prepare import PreparedData
from .engines import Engines


def feature_map_circuit(encoder: Encoder) -> Circuit:
    """The encoder's feature map alone, as a circuit on its qubits (no weights, readout 0)."""
    ops = encoder.feature_map()
    n_features = max((op.index + 1 for op in ops if op.source == "feature" and op.index is not None), default=0)
    return Circuit(n_qubits=encoder.n_qubits, ops=ops, n_features=n_features, n_weights=0, readout=0)


def compute_metrics(metrics: Mapping[str, EncodingMetric], encoder: Encoder, circuit: Circuit, model: Model,
                    data: PreparedData, engines: Engines, seed: int) -> dict[str, Any]:
    """Every metric of ``metrics`` for one encoder and seed: name -> ``{"value", "seconds",
    **details}``, or ``{"skipped": why, "seconds"}``."""
    view = data.view(encoder.view)

    def statevectors(c: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        try:
            engine = engines.states(c)
        except IncompatibleComponentsError as exc:
            raise MetricUnavailable(str(exc)) from None
        return engine.backend.statevector(c, features, weights)

    def expval_vjp(c: Circuit, features: np.ndarray, weights: np.ndarray):
        return engines.training(c).backend.expval_vjp(c, features, weights)

    out: dict[str, Any] = {}
    fmap = feature_map_circuit(encoder)
    for name, metric in metrics.items():
        context = MetricContext(encoder=encoder, feature_map=fmap, circuit=circuit, model=model, train=view.train,
                                test=view.test, seed=seed,
                                rng=np.random.default_rng([seed, zlib.crc32(name.encode())]),
                                statevectors=statevectors, expval_vjp=expval_vjp)
        started = time.perf_counter()
        try:
            found = metric.compute(context)
        except MetricUnavailable as exc:
            out[name] = {"skipped": str(exc), "seconds": time.perf_counter() - started}
            continue
        out[name] = {"value": float(found.value), "seconds": time.perf_counter() - started, **found.details}
    return out
