"""Typed, schema-versioned results: one :class:`RunRecord` per model (an encoder, or a
classical reference model) x seed, gathered in a :class:`BenchmarkResult` that is written to
JSON atomically and read back through the schema's checks and migrations."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError, ResultFileError
from .files import check_new_file, write_json_atomic
from .schema import SCHEMA_VERSION, read_result_json, upgrade, validate_result

_SDKS = ("numpy", "scipy", "pluggy", "pennylane", "qiskit", "qiskit-aer", "scikit-learn", "jax")
QUANTUM, CLASSICAL = "quantum", "classical"


@dataclass(frozen=True)
class RunRecord:
    """What one model, trained with one seed, measured on the test split.

    :param kind: ``quantum`` (an encoder and the run's model) or ``classical`` (a reference
        model on the same features; no circuit: ``n_qubits`` is 0).
    :param measurement: how the numbers were measured (``exact``, ``shots=N``, a device): results
        are ranked together only when it is the same.
    :param engines: which backend ran each part (``train``, ``evaluate``, ``noise``, ``attack``).
    :param samples: per test sample, for paired statistics: ``index`` (the sample's position in
        the publisher's split ``split``), ``label``, ``prediction`` and, where measured,
        ``entropy``, ``noisy`` and ``adversarial`` predictions per level.
    :param training: how the model was trained: ``restarts`` and the chosen one, each
        restart's validation loss.
    :param requested_sizes: the split sizes asked for; ``sizes`` holds those used.
    :param metrics: encoding metrics (expressibility, ...): name -> ``{"value", ...}``.
    :param relative_cost: the run's wall time over the cost baseline's (angle encoding by
        default) on the same seed: the overhead the ATP paper reports.
    """

    dataset: str
    classes: tuple[int, ...]
    encoder: str
    seed: int
    model: str
    backend: str
    train_backend: str
    accuracy: float
    entropy: float | None
    validation_accuracy: float
    n_qubits: int
    two_qubit_gates: int
    depth: int
    epochs: int
    converged: bool
    timings: dict[str, float]
    kind: str = QUANTUM
    measurement: str = "exact"
    engines: dict[str, str] = field(default_factory=dict)
    backend_info: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    encoder_info: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    requested_sizes: dict[str, int] = field(default_factory=dict)
    gate_counts: dict[str, int] = field(default_factory=dict)
    noisy_accuracy: dict[str, float] = field(default_factory=dict)
    adversarial_accuracy: dict[str, float] = field(default_factory=dict)
    attack_seconds: dict[str, float] = field(default_factory=dict)
    attack_gradient: str | None = None
    adversarial_training: dict[str, Any] | None = None
    grid: int | None = None
    feature_map: dict[str, int] = field(default_factory=dict)
    dataset_notes: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    relative_cost: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        if not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(f"accuracy {self.accuracy} outside [0, 1]")
        if self.entropy is not None and not (-1e-9 <= self.entropy and math.isfinite(self.entropy)):
            raise ValueError(f"entropy {self.entropy} is not a non-negative number")
        if self.kind not in (QUANTUM, CLASSICAL):
            raise ValueError(f"kind must be {QUANTUM!r} or {CLASSICAL!r}, got {self.kind!r}")
        if self.n_qubits < (1 if self.kind == QUANTUM else 0):
            raise ValueError(f"n_qubits must be positive, got {self.n_qubits}")

    @property
    def is_classical(self) -> bool:
        return self.kind == CLASSICAL

    @property
    def paired(self) -> bool:
        """Whether the record holds its per-sample outcomes (schema 2 and later)."""
        return bool(self.samples)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["classes"] = list(self.classes)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        missing = required - set(data)
        if missing:
            raise ResultFileError(f"record lacks {', '.join(sorted(missing))}")
        return cls(**{k: v for k, v in data.items() if k in names})


def environment(plugins: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """Versions of Python, the platform, the libraries that shape the numbers and the plugins
    that were loaded."""
    versions: dict[str, str | None] = {}
    for name in ("qenc-bench", *_SDKS):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), "platform": platform.platform(), "versions": versions,
            "plugins": plugins or {}}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class BenchmarkResult:
    """A comparison's records with its configuration and environment.

    :param notes: what a reader must know about the file as a whole (e.g. it was migrated from
        a schema without per-sample outcomes).
    :param complete: ``False`` for the records a run wrote before it was stopped or failed.
    """

    config: dict[str, Any]
    records: tuple[RunRecord, ...]
    environment: dict[str, Any] = field(default_factory=environment)
    created: str = field(default_factory=_now)
    schema_version: int = SCHEMA_VERSION
    notes: tuple[str, ...] = ()
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "created": self.created,
            "complete": self.complete,
            "notes": list(self.notes),
            "config": self.config,
            "environment": self.environment,
            "records": [r.to_dict() for r in self.records],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkResult:
        data = upgrade(data)  # older schema versions are migrated; newer ones are refused
        return cls(
            config=data["config"],
            records=tuple(RunRecord.from_dict(r) for r in data["records"]),
            environment=data.get("environment", {}),
            created=data.get("created", ""),
            notes=tuple(data.get("notes", ())),
            complete=bool(data.get("complete", True)),
        )

    def save(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write JSON atomically (temporary file, fsync, rename): never a half-written file."""
        path = check_new_file(path, force=force)
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> BenchmarkResult:
        """Read, migrate and validate a result file (errors name the file, record and field)."""
        data = upgrade(read_result_json(path), path)
        validate_result(data, path)
        try:
            return cls.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultFileError(f"result file {path} does not match the result schema: {exc}") from None

    def to_frame(self):
        """The records as a :class:`pandas.DataFrame`, one row per record: the scalar fields,
        the ``classes`` as text, every noisy and adversarial accuracy as a column of its own
        (``noisy:depolarizing:0.05``, ``adversarial:fgsm:0.3``) and the encoding metrics
        (``metric:<name>``). Needs pandas (``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("pandas", "BenchmarkResult.to_frame()", 'pip install "qenc-bench[pandas]"') \
                from None
        rows = []
        for r in self.records:
            row: dict[str, Any] = {k: v for k, v in r.to_dict().items() if isinstance(v, (str, int, float, bool))
                                   or v is None}
            row["classes"] = ",".join(map(str, r.classes))
            row["seconds"] = sum(r.timings.values())
            row.update({f"noisy:{k}": v for k, v in r.noisy_accuracy.items()})
            row.update({f"adversarial:{k}": v for k, v in r.adversarial_accuracy.items()})
            row.update({f"metric:{k}": v.get("value") if isinstance(v, dict) else v for k, v in r.metrics.items()})
            rows.append(row)
        return pd.DataFrame(rows)


def with_relative_costs(records: Sequence[RunRecord], baseline: str | None) -> list[RunRecord]:
    """Each quantum record's wall time (fit, train, evaluate) over the ``baseline`` encoder's on
    the same seed: the overhead the ATP paper reports (about 1.15 for ATP over angle)."""
    base = {r.seed: sum(r.timings.values()) for r in records if r.encoder == baseline and not r.is_classical}
    return [replace(r, relative_cost=sum(r.timings.values()) / base[r.seed])
            if not r.is_classical and base.get(r.seed, 0) > 0 else r for r in records]
