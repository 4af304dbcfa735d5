"""PCA then angle encoding: k principal components of the training split, each rescaled to
[0, 1], as RX(pi z_j) on qubit j.

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

from qenc_bench import Encoder, FitContext, Op, Split
from qenc_bench.errors import ConfigError


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
    """:param k: number of components and qubits (default ceil(sqrt(d)), the grid side for
        square images); at most min(d, training samples)."""

    name = "pca"

    def __init__(self, k: int | None = None):
        self.k = k

    def fit(self, train: Split, validation: Split, context: FitContext | None = None) -> PCAEncoder:
        n, d = train.x.shape
        k = self.k if self.k is not None else math.isqrt(max(d - 1, 0)) + 1  # ceil(sqrt(d))
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

    def info(self) -> dict:
        return {
            "k": int(self.k_),
            "explained_variance_ratio": self.explained_variance_ratio_.round(6).tolist(),
            "components": self.components_.round(6).tolist(),
            "mean": self.mean_.round(6).tolist(),
            "training_range": [self.low_.round(6).tolist(), self.high_.round(6).tolist()],
        }
