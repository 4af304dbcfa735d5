"""PCA then angle encoding, as the ATP paper's fifth column: k principal components of the
full-resolution image (the encoder reads the ``image`` view, e.g. 784 pixels for MNIST, not
the s x s grid), each rescaled to [0, 1], as RX(pi z_j) on qubit j.

k: by default the number of features of the grid view (``FitContext.grid_features``), i.e. the
qubits angle encoding uses on the grid, so the qubit budget matches the paper's columns;
``k=atp`` takes the qubits ATP kept on the same seed (list ``atp`` before ``pca``); an integer
sets it.

Fit (training split only): centre by the training mean, SVD (numpy, one BLAS thread: on
small matrices threaded OpenBLAS is many times slower), keep the first k right singular
vectors. Sign convention, for reproducible results: each component's largest-magnitude
loading (the first, on a tie) is positive. Each component's training scores span
[lo_j, hi_j]; ``z_j = clip((score_j - lo_j) / (hi_j - lo_j), 0, 1)`` (a component with
hi_j = lo_j maps to 0). Test samples outside the training range are clipped.

Input gradient: ``z`` is affine in x inside the training range and constant where clipped;
at the range's edge the interior (unclipped) derivative is used.
"""

from __future__ import annotations

import math

import numpy as np

from qenc_bench import ConfigError, Encoder, FitContext, Op, Split


def principal_components(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean (d,), components (k, d) with the sign convention, explained variance ratio (k,))."""
    from threadpoolctl import threadpool_limits

    mean = x.mean(axis=0)
    with threadpool_limits(limits=1):
        _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    components = vt[:k]
    biggest = np.argmax(np.abs(components), axis=1)
    components = components * np.sign(components[np.arange(k), biggest])[:, None]
    variance = singular**2
    ratio = variance[:k] / variance.sum() if variance.sum() > 0 else np.zeros(k)
    return mean, components, ratio


class PCAEncoder(Encoder):
    """:param k: number of components and qubits: an integer, ``"atp"`` (ATP's kept count on the
        same seed), or ``None`` (the grid's feature count; ceil(sqrt(d)) without a context); at
        most min(d, training samples)."""

    name = "pca"
    view = "image"

    def __init__(self, k: int | str | None = None):
        if not (k is None or k == "atp" or (isinstance(k, int) and not isinstance(k, bool))):
            raise ConfigError(f"pca: k must be a positive integer, 'atp' or left out, got {k!r}")
        self.k = k

    def _components(self, d: int, context: FitContext | None) -> int:
        if isinstance(self.k, int):
            return self.k
        if self.k == "atp":
            if context is None or "atp" not in context.fitted_qubits:
                raise ConfigError("pca: k=atp takes ATP's kept qubits on the same seed: compare atp too, "
                                  "listed before pca (--encoders atp,pca)")
            return context.fitted_qubits["atp"]
        if context is not None and context.grid_features:
            return int(context.grid_features)
        return math.isqrt(max(d - 1, 0)) + 1  # ceil(sqrt(d))

    def fit(self, train: Split, validation: Split, context: FitContext | None = None) -> PCAEncoder:
        n, d = train.x.shape
        k = self._components(d, context)
        if not 1 <= k <= min(d, n):
            raise ConfigError(
                f"pca: k={k} components need 1 <= k <= min(features, training samples) = {min(d, n)}"
            )
        self.n_features_in_, self.k_ = d, k
        self.mean_, self.components_, self.explained_variance_ratio_ = principal_components(train.x, k)
        scores = self._scores(train.x)
        self.low_, self.high_ = scores.min(axis=0), scores.max(axis=0)
        span = self.high_ - self.low_
        self.scale_ = np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)
        self.n_qubits = k
        return self

    def _scores(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean_) @ self.components_.T

    def _unit(self, x: np.ndarray) -> np.ndarray:
        """The rescaled components before clipping."""
        return (self._scores(x) - self.low_) * self.scale_

    def feature_map(self) -> tuple[Op, ...]:
        return tuple(Op("RX", (j,), "feature", j) for j in range(self.n_qubits))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.pi * np.clip(self._unit(x), 0.0, 1.0)

    def input_vjp(self, x: np.ndarray, grad_parameters: np.ndarray) -> np.ndarray:
        unit = self._unit(x)
        inside = (unit >= 0.0) & (unit <= 1.0)
        return (np.pi * grad_parameters * inside * self.scale_) @ self.components_

    #: components and mean are recorded only up to this many input features (a 784-pixel image's
    #: nine components would be most of a result file)
    RECORDED_FEATURES = 64

    def info(self) -> dict:
        info = {
            "k": int(self.k_),
            "input_features": int(self.n_features_in_),
            "explained_variance_ratio": self.explained_variance_ratio_.round(6).tolist(),
            "training_range": [self.low_.round(6).tolist(), self.high_.round(6).tolist()],
        }
        if self.n_features_in_ <= self.RECORDED_FEATURES:
            info |= {"components": self.components_.round(6).tolist(), "mean": self.mean_.round(6).tolist()}
        return info
