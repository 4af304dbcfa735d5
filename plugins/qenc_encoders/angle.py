"""Angle encoding: RX(pi * x_j) on qubit j."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qenc_bench import ConfigError, Encoder, FitContext, Op, Split


class AngleEncoder(Encoder):
    """One qubit per kept feature; feature x in [0, 1] becomes RX(pi x) on |0>.

    :param columns: the input features to encode (default: all). ATP uses this to drop the
        qubits of pruned pixels.
    """

    name = "angle"

    def __init__(self, columns: Sequence[int] | None = None):
        self.columns = None if columns is None else np.asarray(columns, dtype=int)

    def fit(self, train: Split, validation: Split, context: FitContext | None = None) -> AngleEncoder:
        self.n_features_in_ = train.x.shape[1]
        if self.columns is None:
            self.columns = np.arange(self.n_features_in_)
        if len(self.columns) == 0:
            raise ConfigError("angle encoding needs at least one feature")
        self.n_qubits = len(self.columns)
        return self

    def feature_map(self) -> tuple[Op, ...]:
        return tuple(Op("RX", (j,), "feature", j) for j in range(self.n_qubits))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.pi * x[:, self.columns]

    def input_vjp(self, x: np.ndarray, grad_parameters: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(x, dtype=np.float64)
        grad[:, self.columns] = np.pi * grad_parameters
        return grad

    def info(self) -> dict:
        return {"columns": self.columns.tolist()}
