"""IQP / ZZ feature map (Havlicek et al., Nature 2019), as Qiskit's ``ZZFeatureMap``.

The circuit equals Qiskit's ``zz_feature_map(d, reps, entanglement="linear")`` with its
default data map, ``phi_i = x'_i`` and ``phi_ij = (pi - x'_i)(pi - x'_j)``, applied to the
inputs scaled to ``x' = pi * x`` (x in [0, 1]); the states agree up to a global phase
(Qiskit uses the phase gate P(2 phi) = e^{i phi} RZ(2 phi)). On d qubits, ``reps`` times:

1. H on every qubit;
2. RZ(2 phi_i) on qubit i, ``2 phi_i = 2 pi x_i``;
3. for i = 0 .. d-2 in order: CNOT(i, i+1), RZ(2 phi_i,i+1) on i+1, CNOT(i, i+1)
   (= IsingZZ(2 phi_i,i+1)), ``2 phi_i,i+1 = 2 pi^2 (1 - x_i)(1 - x_i+1)``.

Feature matrix: columns 0..d-1 are 2 phi_i, columns d..2d-2 are 2 phi_i,i+1; every
repetition reads the same columns. 2 (d - 1) CNOTs per repetition.
"""

from __future__ import annotations

import numpy as np

from qenc_bench import ConfigError, Encoder, FitContext, Op, Split


class IQPEncoder(Encoder):
    """:param reps: repetitions of the H, RZ, ZZ block (Qiskit's default, 2)."""

    name = "iqp"

    def __init__(self, reps: int = 2):
        if reps < 1:
            raise ConfigError(f"iqp: reps must be at least 1, got {reps}")
        self.reps = reps

    def fit(self, train: Split, validation: Split, context: FitContext | None = None) -> IQPEncoder:
        self.n_features_in_ = train.x.shape[1]
        if self.n_features_in_ < 1:
            raise ValueError("iqp encoding needs at least one feature")
        self.n_qubits = self.n_features_in_
        return self

    def feature_map(self) -> tuple[Op, ...]:
        d = self.n_qubits
        block: list[Op] = [Op("H", (i,)) for i in range(d)]
        block += [Op("RZ", (i,), "feature", i) for i in range(d)]
        for i in range(d - 1):
            block += [Op("CNOT", (i, i + 1)), Op("RZ", (i + 1,), "feature", d + i), Op("CNOT", (i, i + 1))]
        return tuple(block * self.reps)

    def transform(self, x: np.ndarray) -> np.ndarray:
        complement = 1.0 - x
        return np.concatenate([2 * np.pi * x, 2 * np.pi**2 * complement[:, :-1] * complement[:, 1:]], axis=1)

    def input_vjp(self, x: np.ndarray, grad_parameters: np.ndarray) -> np.ndarray:
        d = self.n_features_in_
        complement = 1.0 - x
        g_pair = -2 * np.pi**2 * grad_parameters[:, d:]
        grad = 2 * np.pi * grad_parameters[:, :d].copy()
        grad[:, :-1] += g_pair * complement[:, 1:]
        grad[:, 1:] += g_pair * complement[:, :-1]
        return grad

    def info(self) -> dict:
        return {
            "reps": self.reps,
            "entanglement": "linear",
            "data_map": "phi_i = pi x_i, phi_ij = (pi - pi x_i)(pi - pi x_j) (Qiskit ZZFeatureMap on pi x)",
        }
