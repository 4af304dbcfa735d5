"""The backend interface: evaluate a batch of circuits that differ only in their parameters."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .circuit import Circuit
from .errors import IncompatibleComponentsError
from .metrics import von_neumann_entropy
from .noise import Depolarizing
from .specs import Capabilities


@dataclass(frozen=True)
class Gradients:
    """A vector-Jacobian product: ``sum_i cotangent_i * d f_i / d weights`` (W,) and, when
    asked for, ``cotangent_i * d f_i / d features_i`` (N, F). With one weight vector per row
    (``weights`` (N, W), backends with ``capabilities.row_weights``) the weight part is per
    row too: ``cotangent_i * d f_i / d weights_i`` (N, W)."""

    weights: np.ndarray
    features: np.ndarray | None = None


VJP = Callable[[np.ndarray], Gradients]


@dataclass(frozen=True)
class Workload:
    """What a comparison will ask of one backend, known before any work (upper bounds where an
    encoder decides, e.g. ATP's qubit count), for :meth:`Backend.estimate`.

    :param calls: batched evaluation calls (each is one job on hardware).
    :param circuits: circuit executions over all calls (a sample's circuit with one parameter set
        is one execution).
    :param max_qubits: the largest circuit among them.
    :param purposes: calls per purpose (``"test"``, ``"training"``, ``"device noise"``, ...).
    """

    calls: int
    circuits: int
    max_qubits: int
    purposes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CostEstimate:
    """A backend's estimate of a :class:`Workload`'s cost.

    :param jobs: jobs submitted; :param circuits: circuits executed; :param shots: shots in all.
    :param seconds: approximate device time, ``None`` if unknown.
    :param detail: one line on how the estimate was made.
    :param simulated: the jobs run locally (a fake device): the estimate says what they would
        cost on the real device; nothing is billed, so no confirmation is asked for.
    """

    jobs: int
    circuits: int
    shots: int
    seconds: float | None = None
    detail: str = ""
    simulated: bool = False

    @staticmethod
    def count(n: int, noun: str) -> str:
        """``"1 job"``, ``"4,000 shots"``: how cost lines count things."""
        return f"{n:,} {noun}{'' if n == 1 else 's'}"

    @staticmethod
    def duration(seconds: float) -> str:
        """``"45 s"``, ``"7 min"``, ``"3.6 h"``: how cost lines give device time."""
        if seconds < 120:
            return f"{seconds:.0f} s"
        if seconds < 7200:
            return f"{seconds / 60:.0f} min"
        return f"{seconds / 3600:.1f} h"


class Backend(ABC):
    """Evaluates ``<Z_readout>`` of a :class:`~qenc_bench.Circuit` for each row of a feature
    matrix, with one weight vector shared by the batch. Implementations batch over samples
    (never a Python loop over rows) and build their circuit object once per ``Circuit``."""

    name: str = "backend"
    capabilities: Capabilities = Capabilities()
    #: with ``capabilities.row_weights``: whether one call over many models' rows (each row with
    #: its model's weights) is faster than a call per model, so that
    #: :func:`~qenc_bench.train_jointly` batches them by default
    prefers_row_batches: bool = False
    #: how ``expval_vjp`` differentiates, for the record of an attack's gradient
    input_gradient_method: str = "backend gradient"

    @property
    def measurement(self) -> str:
        """How this backend's numbers are measured, which decides what results may be ranked
        together: ``exact`` (exact expectation values of the state), ``shots=N`` (sampled),
        or a backend's own label for a device noise model or hardware. Two backends with the
        same measurement agree up to their numerical precision."""
        shots = getattr(self, "shots", None)
        return f"shots={shots}" if shots else "exact"

    def info(self) -> dict[str, Any]:
        """What a record should keep about this backend's run (JSON-serialisable): its device,
        job ids, error mitigation. Empty by default."""
        return {}

    def estimate(self, workload: Workload) -> CostEstimate | None:
        """The cost of ``workload`` on this backend, before any of it runs; ``None`` when
        running it costs nothing worth stating (simulators)."""
        return None

    @contextmanager
    def job_tags(self, **tags: Any) -> Iterator[None]:
        """Say what the calls made inside the block are for: ``purpose`` (``"test"``,
        ``"training"``, ``"device noise"``), ``encoder``, ``seed`` and, for a test evaluation,
        what completes its record (``labels``, ``test_ids``, ``record``, ``result_file``). A
        backend that runs remote jobs writes the tags beside each job id in its journal, so
        finished jobs can be collected after a failure. Nothing by default."""
        yield

    def close(self) -> None:
        """Release what the backend holds open (a hardware session or batch); the harness
        calls it when a run ends, also after an error. Nothing by default."""

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

    def statevector(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The final statevectors (N, 2^n) of the circuit, wire 0 the most significant bit
        (PennyLane's order). Backends with ``capabilities.states`` override this."""
        raise IncompatibleComponentsError(f"backend {self.name!r} does not give statevectors")

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
