"""Component specifications: the small frozen objects plugins hand to ``register``.

A spec names a component and carries a ``factory`` that builds it. The factory is called
only when the component is used, so a plugin imports its heavy libraries (Qiskit,
PennyLane) inside the factory and listing plugins stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class ComponentSpec:
    """What every component spec has.

    :param name: the name users type (lower case, digits, ``-`` or ``_``), unique per kind.
    :param factory: called with keyword options to build the component.
    :param description: one line for ``qenc-bench list``.
    """

    kind: ClassVar[str] = "component"
    name: str
    factory: Callable[..., Any]
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(
                f"invalid {self.kind} name {self.name!r}: use lower-case letters, digits, '-' or '_'"
            )
        if not callable(self.factory):
            raise TypeError(f"{self.kind} {self.name!r}: factory must be callable")


@dataclass(frozen=True)
class DatasetSpec(ComponentSpec):
    """A dataset. ``factory(**options)`` returns a :class:`qenc_bench.datasets.Dataset`.

    :param modality: ``"image"`` or ``"tabular"``; image-only options are refused for tabular data.
    """

    kind: ClassVar[str] = "dataset"
    modality: str = "image"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.modality not in ("image", "tabular"):
            raise ValueError(f"dataset {self.name!r}: modality must be 'image' or 'tabular'")


@dataclass(frozen=True)
class EncoderSpec(ComponentSpec):
    """An encoder. ``factory(**options)`` returns an unfitted :class:`qenc_bench.encoders.Encoder`."""

    kind: ClassVar[str] = "encoder"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; asking for anything else fails before a circuit runs.

    :param gradients: gradients of expectation values w.r.t. weights (for training).
    :param input_gradients: gradients w.r.t. the circuit's feature parameters (for attacks).
    :param noise: can apply noise channels.
    :param entropy: can compute reduced states / entanglement entropy.
    :param shots: samples with finite shots.
    :param max_qubits: the largest circuit it accepts.
    :param states: gives full statevectors (:meth:`~qenc_bench.Backend.statevector`), which
        encoding metrics of entangling feature maps need.
    :param remote_jobs: runs jobs on a remote service (hardware): the harness hands its factory
        a ``job_journal`` path where it logs every job id as it is submitted, asks it for a cost
        :meth:`~qenc_bench.Backend.estimate` before any work and closes it when the run ends.
    :param row_weights: ``expval`` and ``expval_vjp`` also take one weight vector per row,
        ``weights`` (N, W), in one batched call; the VJP then gives per-row weight gradients
        (N, W). Training many models at once (:func:`~qenc_bench.train_jointly`, ATP's
        ``joint`` search) puts all their rows into one call.
    """

    gradients: bool = False
    input_gradients: bool = False
    noise: bool = False
    entropy: bool = False
    shots: bool = False
    max_qubits: int = 24
    states: bool = False
    remote_jobs: bool = False
    row_weights: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AutoPolicy:
    """Where ``--backend auto`` and ``--train-backend auto`` may choose a backend.

    ``auto`` tries the backends that declare a policy in increasing ``priority`` and takes the
    first whose qubit range holds the circuit and whose instance accepts it (its ``check``,
    and ``check_noise`` when noise is asked for); so the fastest installed engine runs each
    circuit. Without a policy a backend is used only when named.

    :param priority: lower is tried first (the built-ins: exact 10, jax 20, lightning 30,
        pennylane 40, aer 50).
    :param min_qubits: the smallest circuit (all qubits) auto gives it: an engine that is
        only faster on large circuits starts here.
    :param max_qubits: the largest circuit auto gives it (``None``: its capability's limit).
    :param train: auto may train on it (it needs the ``gradients`` capability).
    :param evaluate: auto may evaluate on it (clean values, entropy and, if it has the
        capability, noise).
    :param noise: auto may give it noisy evaluations (a backend whose noise simulation is far
        slower than another's says ``False``; naming it still runs its noise).
    """

    priority: int
    min_qubits: int = 1
    max_qubits: int | None = None
    train: bool = True
    evaluate: bool = True
    noise: bool = True

    def __post_init__(self) -> None:
        if self.min_qubits < 1 or (self.max_qubits is not None and self.max_qubits < self.min_qubits):
            raise ValueError(f"auto policy: bad qubit range {self.min_qubits}..{self.max_qubits}")

    def admits(self, n_qubits: int) -> bool:
        return self.min_qubits <= n_qubits and (self.max_qubits is None or n_qubits <= self.max_qubits)


@dataclass(frozen=True)
class BackendSpec(ComponentSpec):
    """A backend. ``factory(**options)`` returns a :class:`qenc_bench.backends.Backend`.

    :param capabilities: declared here so the harness can check a request without building it.
    :param auto: where ``--backend auto`` may choose it (:class:`AutoPolicy`); ``None``: only
        when named.
    :param requires: the top-level modules its factory imports (``("jax",)``); ``auto`` passes
        over a backend whose modules are not installed without importing anything, and its
        factory raises :class:`~qenc_bench.MissingDependencyError` when it is named.
    """

    kind: ClassVar[str] = "backend"
    capabilities: Capabilities = field(default_factory=Capabilities)
    auto: AutoPolicy | None = None
    requires: tuple[str, ...] = ()

    def installed(self) -> bool:
        """Whether every module of ``requires`` can be imported (found, not imported)."""
        from importlib.util import find_spec

        return all(find_spec(module) is not None for module in self.requires)


@dataclass(frozen=True)
class AttackSpec(ComponentSpec):
    """An adversarial attack. ``factory(**options)`` returns an attack object."""

    kind: ClassVar[str] = "attack"


@dataclass(frozen=True)
class ModelSpec(ComponentSpec):
    """A trainable model around an encoder. ``factory(layers=L)`` returns a
    :class:`qenc_bench.model.Model`."""

    kind: ClassVar[str] = "model"


@dataclass(frozen=True)
class CommandSpec(ComponentSpec):
    """A ``qenc-bench`` subcommand. ``factory()`` returns a :class:`click.Command` (import click
    and anything heavy inside it); the command's name is ``name``."""

    kind: ClassVar[str] = "command"


@dataclass(frozen=True)
class ReporterSpec(ComponentSpec):
    """A reporter. ``factory()`` returns a :class:`qenc_bench.reporters.Reporter` that adds notes,
    columns and plots about the models it knows to tables and reports."""

    kind: ClassVar[str] = "reporter"


@dataclass(frozen=True)
class ClassicalSpec(ComponentSpec):
    """A classical reference model. ``factory(seed=S, **options)`` returns an unfitted
    scikit-learn style classifier (``fit(X, y)`` then ``predict(X)``), trained on the same
    features, splits and seeds as the quantum models and shown as a marked row beside them.
    """

    kind: ClassVar[str] = "classical"


@dataclass(frozen=True)
class MetricSpec(ComponentSpec):
    """An encoding metric. ``factory(**options)`` returns a
    :class:`qenc_bench.encoding_metrics.EncodingMetric`, computed per encoder and seed when a
    comparison asks for it (``--metrics NAME`` or ``all``)."""

    kind: ClassVar[str] = "metric"


SPEC_TYPES: dict[str, type[ComponentSpec]] = {
    "dataset": DatasetSpec,
    "encoder": EncoderSpec,
    "backend": BackendSpec,
    "attack": AttackSpec,
    "model": ModelSpec,
    "command": CommandSpec,
    "reporter": ReporterSpec,
    "classical": ClassicalSpec,
    "metric": MetricSpec,
}
