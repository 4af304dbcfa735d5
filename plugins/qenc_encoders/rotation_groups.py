"""Encoders that put a fixed group of features on each qubit as a sequence of rotations.

Features are taken in consecutive groups of ``len(gates)``: group q (features
``q*g .. q*g + g - 1``) acts on qubit q, its i-th feature x becoming ``gates[i](pi * x)``,
applied in the order of ``gates``, after the fixed gates ``prepare`` (default none: the first
rotation acts on |0>). The last group is
zero-padded, so the feature matrix has ``g * ceil(d / g)`` columns, column ``q*g + i`` for
gate i of qubit q.
"""

from __future__ import annotations

import numpy as np

from qenc_bench import Encoder, FitContext, Op, Split


class RotationGroupEncoder(Encoder):
    """``gates`` (single-qubit rotation names) applied to |0> per qubit; see the module docstring."""

    gates: tuple[str, ...] = ()
    prepare: tuple[str, ...] = ()

    def fit(self, train: Split, validation: Split, context: FitContext | None = None) -> RotationGroupEncoder:
        self.n_features_in_ = train.x.shape[1]
        if self.n_features_in_ < 1:
            raise ValueError(f"{self.name} encoding needs at least one feature")
        self.n_qubits = -(-self.n_features_in_ // len(self.gates))
        return self

    def feature_map(self) -> tuple[Op, ...]:
        g = len(self.gates)
        fixed = tuple(Op(gate, (q,)) for q in range(self.n_qubits) for gate in self.prepare)
        return fixed + tuple(
            Op(gate, (q,), "feature", q * g + i) for q in range(self.n_qubits) for i, gate in enumerate(self.gates)
        )

    def transform(self, x: np.ndarray) -> np.ndarray:
        features = np.zeros((len(x), self.n_qubits * len(self.gates)))
        features[:, : self.n_features_in_] = np.pi * x
        return features

    def input_vjp(self, x: np.ndarray, grad_parameters: np.ndarray) -> np.ndarray:
        return np.pi * grad_parameters[:, : self.n_features_in_]

    def info(self) -> dict:
        return {
            "features": int(self.n_features_in_),
            "gates_per_qubit": [*self.prepare, *self.gates],
            "padded_features": self.n_qubits * len(self.gates) - int(self.n_features_in_),
        }
