"""The backend interface: evaluate a batch of circuits that differ only in their parameters."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .circuit import Circuit
from .errors import IncompatibleComponentsError
from .metrics import von_neumann_entropy
from .noise import Depolarizing
from .specs import Capabilities


@dataclass(frozen=True)
class Gradients:
    """A vector-Jacobian product: ``sum_i cotangent_i * d f_i / d weights`` (W,) and, when
    asked for, ``cotangent_i * d f_i / d features_i`` (N, F)."""

    weights: np.ndarray
    features: np.ndarray | None = None


VJP = Callable[[np.ndarray], Gradients]


class Backend(ABC):
    """Evaluates ``<Z_readout>`` of a :class:`~qenc_bench.Circuit` for each row of a feature
    matrix, with one weight vector shared by the batch. Implementations batch over samples
    (never a Python loop over rows) and build their circuit object once per ``Circuit``."""

    name: str = "backend"
    capabilities: Capabilities = Capabilities()

    def check(self, circuit: Circuit) -> None:
        """Refuse a circuit this backend cannot run, before anything runs."""
        if circuit.n_qubits > self.capabilities.max_qubits:
            raise IncompatibleComponentsError(
                f"backend {self.name!r} runs at most {self.capabilities.max_qubits} qubits; "
                f"this circuit has {circuit.n_qubits} (use a smaller --grid, or --backend exact "
                f"for the readout model)"
            )

    @abstractmethod
    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``<Z_readout>`` for each row of ``features`` (N, F): an array (N,)."""

    def check_noise(self, circuit: Circuit) -> None:
        """Refuse, before anything runs, a noisy evaluation this backend cannot do."""
        if not self.capabilities.noise:
            raise IncompatibleComponentsError(f"backend {self.name!r} does not simulate noise; use --backend aer")

    def noisy_expval(
        self, circuit: Circuit, features: np.ndarray, weights: np.ndarray, noise: Depolarizing
    ) -> np.ndarray:
        """``<Z_readout>`` under ``noise`` (convention in :mod:`qenc_bench.noise`). Backends
        with ``capabilities.noise`` override this."""
        raise IncompatibleComponentsError(
            f"backend {self.name!r} does not simulate noise; use --backend aer (or pennylane, up to 8 qubits)"
        )

    def expval_vjp(
        self, circuit: Circuit, features: np.ndarray, weights: np.ndarray, *, features_grad: bool = False
    ) -> tuple[np.ndarray, VJP]:
        """Values (N,) and a function that maps a cotangent (N,) to :class:`Gradients`."""
        raise IncompatibleComponentsError(f"backend {self.name!r} does not compute gradients")

    def reduced_density_matrix(
        self, circuit: Circuit, features: np.ndarray, weights: np.ndarray, wires: Sequence[int]
    ) -> np.ndarray:
        """Reduced density matrices (N, 2^k, 2^k) of ``wires`` after the full circuit."""
        raise IncompatibleComponentsError(f"backend {self.name!r} does not give quantum states")

    def entropy(
        self, circuit: Circuit, features: np.ndarray, weights: np.ndarray, wires: Sequence[int]
    ) -> np.ndarray:
        """Von Neumann entropy (log base 2) of ``wires`` after the full circuit, per sample."""
        return von_neumann_entropy(self.reduced_density_matrix(circuit, features, weights, wires))
