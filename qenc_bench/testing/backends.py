"""The backend contract: :func:`check_backend`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import Backend, Gradients
from ..circuit import Circuit, Op
from ..encoders import Encoder
from ..specs import BackendSpec
from ._common import FD_STEP, _fail, _registry, _require, _step


class _SmallEncoder(Encoder):
    """Two data qubits, RY then RZ per qubit: a product-state feature map every backend runs."""

    name = "contract"
    n_qubits = 2

    def fit(self, train, validation, context):  # pragma: no cover - never fitted
        return self

    def feature_map(self) -> tuple[Op, ...]:
        return (Op("RY", (0,), "feature", 0), Op("RZ", (0,), "feature", 1),
                Op("RY", (1,), "feature", 2), Op("RZ", (1,), "feature", 3))

    def transform(self, x):  # pragma: no cover - features are drawn directly
        return x


def _small_circuit() -> Circuit:
    from ..model import ReadoutModel

    return ReadoutModel().build(_SmallEncoder())


def _exact_backend() -> Backend:
    """The reference every backend is checked against: the registered ``exact`` backend."""
    return _registry().get("backend", "exact").factory()


def check_backend(spec: BackendSpec, **options: Any) -> Backend:
    """Build the backend with ``options`` and check it on a 3-qubit readout circuit.

    A backend instance with a ``shots`` attribute that is not ``None`` samples: its values are
    compared with the exact ones to within 5 / sqrt(shots) and its gradients only for shape.
    :returns: the backend.
    """
    _require(isinstance(spec, BackendSpec), "backend", f"expected a BackendSpec, got {type(spec).__name__}")
    label = f"backend {spec.name!r}"
    with _step(label, "the factory"):
        backend = spec.factory(**options)
    _require(isinstance(backend, Backend), label, f"the factory returned {type(backend).__name__}, not a Backend")
    caps = backend.capabilities
    if caps != spec.capabilities:
        declared, actual = spec.capabilities.as_dict(), caps.as_dict()
        diff = ", ".join(f"{k}: spec {declared[k]!r}, instance {actual[k]!r}" for k in declared if declared[k] != actual[k])
        raise _fail(label, f"the spec's capabilities differ from the instance's ({diff})")

    circuit = _small_circuit()
    rng = np.random.default_rng(7)
    features = rng.uniform(0, np.pi, size=(5, circuit.n_features))
    weights = rng.uniform(-np.pi, np.pi, size=circuit.n_weights)
    with _step(label, "check(circuit)"):
        backend.check(circuit)
    with _step(label, "expval"):
        values = np.asarray(backend.expval(circuit, features, weights))
    _require(values.shape == (len(features),), label, f"expval has shape {values.shape}, expected {(len(features),)}")
    _require(np.all(np.isfinite(values)) and np.all(np.abs(values) <= 1 + 1e-9), label,
             f"expval values outside [-1, 1]: {values}")
    shots = getattr(backend, "shots", None)
    reference = _exact_backend().expval(circuit, features, weights)
    tolerance = 1e-8 if shots is None else 5.0 / np.sqrt(shots)
    error = float(np.max(np.abs(values - reference)))
    _require(error <= tolerance, label,
             f"expval differs from the exact backend by {error:.3g} (tolerance {tolerance:.3g})")

    if caps.gradients:
        with _step(label, "expval_vjp"):
            vjp_values, vjp = backend.expval_vjp(circuit, features, weights, features_grad=caps.input_gradients)
            cotangent = rng.normal(size=len(features))
            grads = vjp(cotangent)
        _require(isinstance(grads, Gradients), label, f"the vjp returned {type(grads).__name__}, not Gradients")
        g_w = np.asarray(grads.weights)
        _require(g_w.shape == weights.shape, label, f"weight gradient has shape {g_w.shape}, expected {weights.shape}")
        if caps.input_gradients:
            _require(grads.features is not None and np.shape(grads.features) == features.shape, label,
                     f"feature gradient has shape {np.shape(grads.features)}, expected {features.shape} "
                     f"(the capabilities declare input_gradients)")
        if shots is None:
            _require(np.allclose(vjp_values, values, atol=1e-8), label, "expval_vjp's values differ from expval's")
            numeric_w = np.empty_like(weights)
            for k in range(len(weights)):
                e = np.zeros_like(weights)
                e[k] = FD_STEP
                diff = backend.expval(circuit, features, weights + e) - backend.expval(circuit, features, weights - e)
                numeric_w[k] = cotangent @ diff / (2 * FD_STEP)
            error = float(np.max(np.abs(g_w - numeric_w)))
            _require(error <= 1e-6, label, f"weight gradient differs from central finite differences by {error:.3g}")
            if caps.input_gradients:
                n, f = features.shape
                shifts = np.eye(f) * FD_STEP
                plus = (features[:, None, :] + shifts[None]).reshape(n * f, f)
                minus = (features[:, None, :] - shifts[None]).reshape(n * f, f)
                both = backend.expval(circuit, np.vstack([plus, minus]), weights)
                numeric_f = (both[: n * f] - both[n * f:]).reshape(n, f) / (2 * FD_STEP) * cotangent[:, None]
                error = float(np.max(np.abs(np.asarray(grads.features) - numeric_f)))
                _require(error <= 1e-6, label,
                         f"feature gradient differs from central finite differences by {error:.3g}")
    if caps.row_weights and shots is None:
        _check_row_weights(backend, label, circuit, features, rng)
    return backend


def _check_row_weights(backend: Backend, label: str, circuit, features: np.ndarray, rng) -> None:
    """Per-row weights (N, W) give each row its value and weight gradient with its weights alone."""
    rows, cot = rng.uniform(-np.pi, np.pi, size=(len(features), circuit.n_weights)), rng.normal(size=len(features))
    grads = backend.capabilities.gradients
    with _step(label, "expval and expval_vjp with per-row weights"):
        together = [np.asarray(backend.expval(circuit, features, rows))]
        together += [np.asarray(backend.expval_vjp(circuit, features, rows)[1](cot).weights)] if grads else []
        alone = [np.array([backend.expval(circuit, features[i:i + 1], rows[i])[0] for i in range(len(rows))])]
        alone += [np.stack([backend.expval_vjp(circuit, features[i:i + 1], rows[i])[1](cot[i:i + 1]).weights
                            for i in range(len(rows))])] if grads else []
    for what, ours, theirs in zip(("expval", "per-row weight gradients"), together, alone, strict=False):
        error = float(np.max(np.abs(ours - theirs))) if ours.shape == theirs.shape else np.inf
        _require(error <= 1e-8, label, f"{what} with per-row weights (shape {ours.shape}) differs from one row at a "
                                       f"time by {error:.3g} (the capabilities declare row_weights)")
