"""Typed, schema-versioned results: one :class:`RunRecord` per encoder x seed, gathered in a
:class:`BenchmarkResult` that is written to JSON atomically."""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import ResultFileError

SCHEMA_VERSION = 1
_SDKS = ("numpy", "scipy", "pluggy", "pennylane", "qiskit", "qiskit-aer", "scikit-learn")


@dataclass(frozen=True)
class RunRecord:
    """What one encoder, trained with one seed, measured on the test split."""

    dataset: str
    classes: tuple[int, int]
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
    encoder_info: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    gate_counts: dict[str, int] = field(default_factory=dict)
    noisy_accuracy: dict[str, float] = field(default_factory=dict)
    adversarial_accuracy: dict[str, float] = field(default_factory=dict)
    attack_seconds: dict[str, float] = field(default_factory=dict)
    attack_gradient: str | None = None
    adversarial_training: dict[str, Any] | None = None
    grid: int | None = None
    feature_map: dict[str, int] = field(default_factory=dict)
    dataset_notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        if not 0.0 <= self.accuracy <= 1.0:
            raise ValueError(f"accuracy {self.accuracy} outside [0, 1]")
        if self.entropy is not None and not (-1e-9 <= self.entropy and math.isfinite(self.entropy)):
            raise ValueError(f"entropy {self.entropy} is not a non-negative number")
        if self.n_qubits < 1:
            raise ValueError(f"n_qubits must be positive, got {self.n_qubits}")

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
    versions = {}
    for name in ("qenc-bench", *_SDKS):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), "platform": platform.platform(), "versions": versions,
            "plugins": plugins or {}}


@dataclass(frozen=True)
class BenchmarkResult:
    config: dict[str, Any]
    records: tuple[RunRecord, ...]
    environment: dict[str, Any] = field(default_factory=environment)
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "created": self.created,
            "config": self.config,
            "environment": self.environment,
            "records": [r.to_dict() for r in self.records],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkResult:
        from .report import upgrade  # report imports records: a local import

        data = upgrade(data)  # older schema versions are migrated; newer ones are refused
        return cls(
            config=data["config"],
            records=tuple(RunRecord.from_dict(r) for r in data["records"]),
            environment=data.get("environment", {}),
            created=data.get("created", ""),
        )

    def save(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write JSON atomically (temporary file, fsync, rename): never a half-written file."""
        path = Path(path)
        check_writable(path, force=force)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(self.to_dict(), fh, indent=2, allow_nan=False)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> BenchmarkResult:
        """Read, migrate and validate a result file (errors name the file, record and field)."""
        from .report import load_result

        return load_result(path)


def check_writable(path: Path, *, force: bool) -> None:
    if path.exists() and not force:
        raise ResultFileError(f"{path} already exists; pass --force to overwrite it or choose another --out")
