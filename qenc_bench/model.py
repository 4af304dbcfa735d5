"""The model interface, and the paper's readout QNN (Farhi and Neven; the TFQ MNIST
tutorial; the ATP paper), which is the default model.

Data qubits ``0 .. n-1`` carry the encoder's feature map; the readout qubit ``n`` is
prepared by X then H (the state |->). Each layer couples every data qubit to the readout,
first with ``IsingXX(w)``, then with ``IsingZZ(w)``; a final H on the readout; the output is
``<Z_readout>`` in [-1, 1] and the predicted label is its sign.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .circuit import Circuit, Op, weight_op
from .encoders import Encoder

READOUT_FAMILY = "readout-xxzz"


class Model(ABC):
    """A trainable circuit around an encoder's feature map; the output is ``<Z>`` on the
    circuit's readout wire and the predicted label its sign."""

    name: str = "model"
    layers: int = 1

    @abstractmethod
    def build(self, encoder: Encoder) -> Circuit:
        """The full circuit for a fitted encoder (feature columns as the encoder's)."""

    def init_weights(self, circuit: Circuit, rng: np.random.Generator) -> np.ndarray:
        """Uniform in [-pi, pi): a random point of the full periodic weight space."""
        return rng.uniform(-np.pi, np.pi, size=circuit.n_weights)

    def restrict_weights(self, weights: np.ndarray, n_qubits: int, kept: np.ndarray) -> np.ndarray:
        """The weights of the same model on the qubits ``kept`` only.

        The built-in models lay out their weights in per-layer blocks of ``2 n`` (a first and a
        second weight per qubit); models with another layout override this.
        """
        weights = np.asarray(weights)
        if weights.ndim == 2:  # one-vs-rest: one row per class
            return np.stack([self.restrict_weights(w, n_qubits, kept) for w in weights])
        blocks = weights.reshape(self.layers, 2, n_qubits)
        return blocks[:, :, np.asarray(kept)].reshape(-1).copy()

    @property
    def label(self) -> str:
        return f"{self.name}(layers={self.layers})"


@dataclass(frozen=True)
class ReadoutModel(Model):
    """:param layers: coupling layers (one is the paper's model and the exact backend's family)."""

    layers: int = 1
    name: str = "readout"

    def __post_init__(self) -> None:
        if self.layers < 1:
            raise ValueError(f"layers must be at least 1, got {self.layers}")

    def build(self, encoder: Encoder) -> Circuit:
        n = encoder.n_qubits
        r = n
        ops: list[Op] = [Op("X", (r,)), Op("H", (r,))]
        ops += encoder.feature_map()
        for layer in range(self.layers):
            base = 2 * n * layer
            ops += [weight_op("IsingXX", (j, r), base + j) for j in range(n)]
            ops += [weight_op("IsingZZ", (j, r), base + n + j) for j in range(n)]
        ops.append(Op("H", (r,)))
        n_features = max((op.index + 1 for op in ops if op.source == "feature" and op.index is not None), default=0)
        return Circuit(
            n_qubits=n + 1,
            ops=tuple(ops),
            n_features=n_features,
            n_weights=2 * n * self.layers,
            readout=r,
            family=READOUT_FAMILY,
            meta={"model": self.name, "layers": self.layers},
        )
